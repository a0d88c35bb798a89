//! Entry points: the files whose URL must never change (pages, favicon.ico, robots.txt,
//! service workers, ...). They keep their path and are revalidated; every other file is
//! fingerprinted.

use assetc_core::LogicalPath;
use globset::GlobSet;

use crate::build::patterns::glob_set;
use crate::error::BuildError;

/// The built-in entry-point patterns (gitignore-like, see [`crate::build::patterns::PathFilter`]).
pub const DEFAULT_ENTRY_POINTS: &[&str] = &[
    "*.html",
    "*.htm",
    "/favicon.ico",
    "/robots.txt",
    "/humans.txt",
    "/ads.txt",
    "/app-ads.txt",
    "/sitemap*.xml",
    "/sitemap*.xml.gz",
    "/browserconfig.xml",
    "/crossdomain.xml",
    "/.well-known/**",
    "/sw.js",
    "/service-worker.js",
    "/serviceworker.js",
];

/// Decides which files keep their path.
#[derive(Debug)]
pub struct EntryPoints(GlobSet);

impl EntryPoints {
    /// The defaults plus `extra` patterns from the configuration.
    pub fn new(extra: &[String]) -> Result<Self, BuildError> {
        let patterns: Vec<String> = DEFAULT_ENTRY_POINTS
            .iter()
            .map(|s| (*s).to_owned())
            .chain(extra.iter().cloned())
            .collect();
        Ok(Self(glob_set(&patterns)?))
    }

    pub fn contains(&self, path: &LogicalPath) -> bool {
        self.0.is_match(path.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_extras() {
        let e = EntryPoints::new(&["/embed/*.js".into()]).unwrap();
        let is = |p: &str| e.contains(&LogicalPath::new(p).unwrap());
        for yes in [
            "index.html",
            "a/b/page.htm",
            "favicon.ico",
            "robots.txt",
            "sitemap-1.xml",
            ".well-known/security.txt",
            "sw.js",
            "embed/widget.js",
        ] {
            assert!(is(yes), "{yes}");
        }
        for no in [
            "css/app.css",
            "img/favicon.ico",
            "a/robots.txt",
            "app.js",
            "embed/sub/x.js",
            "manifest.webmanifest",
        ] {
            assert!(!is(no), "{no}");
        }
    }
}
