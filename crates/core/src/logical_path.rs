//! Logical paths: the `/`-separated, root-relative names of source files, and how
//! references resolve against them without ever leaving the root.

use std::fmt;

/// A normalised path relative to the input root: no leading `/`, no empty, `.` or `..`
/// segments. It names a source file the way a URL names it, so it is always UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogicalPath(String);

/// Why a string is not a logical path, or why a reference cannot resolve to one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogicalPathError {
    #[error("`{0}` leaves the root")]
    EscapesRoot(String),
    #[error("`{0}` is empty")]
    Empty(String),
    #[error("`{0}` has an empty, `.` or `..` segment or a backslash")]
    NotNormal(String),
}

impl LogicalPath {
    /// Checks that `path` is already normal (as a walk of the input produces it).
    pub fn new(path: impl Into<String>) -> Result<Self, LogicalPathError> {
        let path = path.into();
        if path.is_empty() {
            return Err(LogicalPathError::Empty(path));
        }
        let normal = path
            .split('/')
            .all(|segment| !matches!(segment, "" | "." | "..") && !segment.contains('\\'));
        if normal {
            Ok(Self(path))
        } else {
            Err(LogicalPathError::NotNormal(path))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The directory part, without a trailing `/` (`""` at the root).
    pub fn dir(&self) -> &str {
        self.0.rsplit_once('/').map_or("", |(dir, _)| dir)
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0
            .rsplit_once('/')
            .map_or(self.0.as_str(), |(_, name)| name)
    }

    /// The lowercased extension of the file name, if it has one (`"css"` for `a/b.min.CSS`).
    pub fn extension(&self) -> Option<String> {
        let name = self.file_name();
        match name.rfind('.') {
            Some(0) | None => None,
            Some(i) if i + 1 == name.len() => None,
            Some(i) => Some(name[i + 1..].to_ascii_lowercase()),
        }
    }

    /// The same directory with another file name.
    pub fn with_file_name(&self, name: &str) -> Self {
        match self.dir() {
            "" => Self(name.to_owned()),
            dir => Self(format!("{dir}/{name}")),
        }
    }

    /// Resolves a decoded URL path as written in the file at `self`: root-relative when it
    /// starts with `/`, otherwise relative to this file's directory. `..` may climb only
    /// to the root. A path naming a directory (empty, or ending in `/`) resolves to its
    /// `index.html`, as a static host would serve it.
    pub fn resolve(&self, reference: &str) -> Result<LogicalPath, LogicalPathError> {
        let mut segments: Vec<&str> = Vec::new();
        let rest = match reference.strip_prefix('/') {
            Some(rest) => rest,
            None => {
                segments.extend(self.dir().split('/').filter(|s| !s.is_empty()));
                reference
            }
        };
        let mut names_directory = reference.is_empty();
        for segment in rest.split('/') {
            names_directory = matches!(segment, "" | "." | "..");
            match segment {
                "" | "." => {}
                ".." => {
                    if segments.pop().is_none() {
                        return Err(LogicalPathError::EscapesRoot(reference.to_owned()));
                    }
                }
                other => segments.push(other),
            }
        }
        if names_directory {
            segments.push("index.html");
        }
        if segments.iter().any(|s| s.contains('\\')) {
            return Err(LogicalPathError::NotNormal(reference.to_owned()));
        }
        Ok(Self(segments.join("/")))
    }
}

impl fmt::Display for LogicalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for LogicalPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lp(s: &str) -> LogicalPath {
        LogicalPath::new(s).unwrap()
    }

    #[test]
    fn rejects_non_normal_paths() {
        for bad in ["", "/a", "a/", "a//b", "./a", "a/../b", "a\\b"] {
            assert!(LogicalPath::new(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(lp("a/b c/ü.css").as_str(), "a/b c/ü.css");
    }

    #[test]
    fn parts() {
        let p = lp("css/vendor/jquery.min.JS");
        assert_eq!(p.dir(), "css/vendor");
        assert_eq!(p.file_name(), "jquery.min.JS");
        assert_eq!(p.extension().as_deref(), Some("js"));
        assert_eq!(lp("LICENSE").extension(), None);
        assert_eq!(lp("a/.htaccess").extension(), None);
        assert_eq!(lp("trailing.").extension(), None);
        assert_eq!(
            lp("a/b.css").with_file_name("b.x.css").as_str(),
            "a/b.x.css"
        );
        assert_eq!(lp("b.css").with_file_name("c.css").as_str(), "c.css");
    }

    #[test]
    fn resolves_relative_references_against_the_file_directory() {
        let page = lp("blog/2024/post.html");
        assert_eq!(
            page.resolve("img/a.png").unwrap().as_str(),
            "blog/2024/img/a.png"
        );
        assert_eq!(
            page.resolve("./img/a.png").unwrap().as_str(),
            "blog/2024/img/a.png"
        );
        assert_eq!(
            page.resolve("../../css/site.css").unwrap().as_str(),
            "css/site.css"
        );
        assert_eq!(lp("index.html").resolve("a.css").unwrap().as_str(), "a.css");
    }

    #[test]
    fn resolves_root_relative_references_against_the_root() {
        let page = lp("blog/post.html");
        assert_eq!(
            page.resolve("/css/site.css").unwrap().as_str(),
            "css/site.css"
        );
        assert_eq!(page.resolve("/a/../b.css").unwrap().as_str(), "b.css");
    }

    #[test]
    fn dot_dot_that_stays_inside_is_fine_and_leaving_the_root_is_an_error() {
        let page = lp("a/b/page.html");
        assert_eq!(page.resolve("../../x.css").unwrap().as_str(), "x.css");
        assert_eq!(page.resolve("../c/../x.css").unwrap().as_str(), "a/x.css");
        assert!(matches!(
            page.resolve("../../../x.css"),
            Err(LogicalPathError::EscapesRoot(_))
        ));
        assert!(matches!(
            lp("p.html").resolve("/../x.css"),
            Err(LogicalPathError::EscapesRoot(_))
        ));
    }

    #[test]
    fn directories_resolve_to_their_index() {
        let page = lp("docs/guide/intro.html");
        assert_eq!(page.resolve("../").unwrap().as_str(), "docs/index.html");
        assert_eq!(page.resolve("/").unwrap().as_str(), "index.html");
        assert_eq!(page.resolve("").unwrap().as_str(), "docs/guide/index.html");
        assert_eq!(page.resolve("..").unwrap().as_str(), "docs/index.html");
        assert_eq!(
            page.resolve("sub/.").unwrap().as_str(),
            "docs/guide/sub/index.html"
        );
    }

    #[test]
    fn backslashes_never_become_separators() {
        assert!(lp("a.html").resolve("..\\secret").is_err());
    }
}
