//! Walking the input: every file to build, in a deterministic order, with dotfiles,
//! excluded paths and symlinks that leave the root left out.

use std::path::{Path, PathBuf};

use assetc_core::{LogicalPath, MANIFEST_FILE_NAME};
use walkdir::WalkDir;

use crate::build::patterns::PathFilter;
use crate::error::{BuildError, Warning, WarningKind};

/// A source file found by the walk.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub logical: LogicalPath,
    /// Where to read it (through any symlink inside the root).
    pub path: PathBuf,
}

/// Walks `root` (canonical) and returns its files sorted by logical path.
pub fn walk(
    root: &Path,
    filter: &PathFilter,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<SourceFile>, BuildError> {
    let mut files = Vec::new();
    let mut pending_error = None;
    let skipped = std::cell::RefCell::new(Vec::new());
    let walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .min_depth(1)
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            if name.starts_with('.') && !(entry.depth() == 1 && name == ".well-known") {
                return false;
            }
            let Some(logical) = logical_of(root, entry.path()) else {
                // Reported below as a non-UTF-8 name unless excluded.
                return true;
            };
            if filter.excludes(&logical) {
                return false;
            }
            if entry.path_is_symlink() {
                match std::fs::canonicalize(entry.path()) {
                    Ok(target) if target.starts_with(root) => {}
                    Ok(target) => {
                        skipped.borrow_mut().push(Warning {
                            file: logical,
                            line: None,
                            column: None,
                            kind: WarningKind::SymlinkOutsideRoot {
                                target: target.display().to_string(),
                            },
                        });
                        return false;
                    }
                    Err(e) => {
                        skipped.borrow_mut().push(Warning {
                            file: logical,
                            line: None,
                            column: None,
                            kind: WarningKind::BrokenSymlink {
                                message: e.to_string(),
                            },
                        });
                        return false;
                    }
                }
            }
            true
        });
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) if e.loop_ancestor().is_some() => {
                let path = e.path().map(Path::to_path_buf).unwrap_or_default();
                let file = logical_of(root, &path).unwrap_or_else(|| path.display().to_string());
                warnings.push(Warning {
                    file,
                    line: None,
                    column: None,
                    kind: WarningKind::BrokenSymlink {
                        message: "it points at one of its own parent directories".into(),
                    },
                });
                continue;
            }
            Err(e) if e.path().is_some_and(|p| p.is_symlink()) => {
                // A symlink that cannot be followed (to itself, or into a loop).
                let path = e.path().map(Path::to_path_buf).unwrap_or_default();
                let file = logical_of(root, &path).unwrap_or_else(|| path.display().to_string());
                let message = e
                    .io_error()
                    .map_or_else(|| e.to_string(), ToString::to_string);
                warnings.push(Warning {
                    file,
                    line: None,
                    column: None,
                    kind: WarningKind::BrokenSymlink { message },
                });
                continue;
            }
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                let source = e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("walk failed"));
                pending_error.get_or_insert(BuildError::Io { path, source });
                break;
            }
        };
        let Some(logical) = logical_of(root, entry.path()) else {
            return Err(BuildError::NonUtf8Name {
                path: entry.path().to_path_buf(),
            });
        };
        let file_type = entry.file_type();
        if file_type.is_dir() {
            continue;
        }
        if !filter.includes_file(&logical) {
            continue;
        }
        if !file_type.is_file() {
            return Err(BuildError::NotAFile {
                path: entry.path().to_path_buf(),
            });
        }
        if logical == MANIFEST_FILE_NAME {
            return Err(BuildError::ManifestNameTaken {
                path: entry.path().to_path_buf(),
            });
        }
        let logical = LogicalPath::new(logical).map_err(|source| BuildError::InvalidName {
            path: entry.path().to_path_buf(),
            source,
        })?;
        files.push(SourceFile {
            logical,
            path: entry.into_path(),
        });
    }
    if let Some(error) = pending_error {
        return Err(error);
    }
    warnings.extend(skipped.into_inner());
    files.sort_by(|a, b| a.logical.cmp(&b.logical));
    Ok(files)
}

/// The `/`-joined path of `path` below `root`, if every component is UTF-8.
fn logical_of(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect();
    Some(parts?.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(root: &Path, filter: &PathFilter) -> Vec<String> {
        walk(root, filter, &mut Vec::new())
            .unwrap()
            .iter()
            .map(|f| f.logical.to_string())
            .collect()
    }

    #[test]
    fn skips_dotfiles_except_well_known_and_applies_globs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for p in [
            "a.css",
            ".env",
            ".git/config",
            ".well-known/security.txt",
            "sub/.DS_Store",
            "sub/b.scss",
            "node_modules/x/index.js",
            "sub/node_modules/y.js",
            "z/c.js",
        ] {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, p).unwrap();
        }
        let none = PathFilter::new(&[], &[]).unwrap();
        assert_eq!(
            names(&root, &none),
            [
                ".well-known/security.txt",
                "a.css",
                "node_modules/x/index.js",
                "sub/b.scss",
                "sub/node_modules/y.js",
                "z/c.js"
            ]
        );
        let filter = PathFilter::new(&[], &["node_modules/**".into(), "*.scss".into()]).unwrap();
        // A pattern with a `/` is anchored at the root, as in gitignore.
        assert_eq!(
            names(&root, &filter),
            [
                ".well-known/security.txt",
                "a.css",
                "sub/node_modules/y.js",
                "z/c.js"
            ]
        );
        let filter = PathFilter::new(&[], &["node_modules".into(), "*.scss".into()]).unwrap();
        assert_eq!(
            names(&root, &filter),
            [".well-known/security.txt", "a.css", "z/c.js"]
        );
        let filter = PathFilter::new(&["*.css".into(), "z/**".into()], &[]).unwrap();
        assert_eq!(names(&root, &filter), ["a.css", "z/c.js"]);
    }
}
