//! Resolve: every reference of every text file found and resolved to a source file (by
//! index), or reported with its `file:line:column` when it names nothing in the input.
//!
//! With a path base URL (`--base-url /en/latest/`: the build is served under that path), a
//! root-relative reference names a file of the build only under that path, and
//! `/en/latest/_static/x.css` resolves to `_static/x.css`, the form the build itself writes.
//! One outside it names a URL of the host that is not in this build, and is left as
//! written: rewriting it to a file of the input would change which URL the page asks for. A
//! link (`<a href="/">`, the host's home page) is as external as `https://…`, so it is not
//! reported; a subresource (`/_static/x.css`, `/api/data.json`) is (`OutsideBase`), since
//! one meant for this build is a mistake, unless `--ignore-reference` matches its path from
//! the host root. With `/` or an origin as the base URL, root-relative references resolve
//! against the input root.

use std::collections::{BTreeSet, HashMap};

use assetc_core::url_ref::{classify, LocalRef, Reference};
use assetc_core::LogicalPath;
use globset::GlobSet;

use crate::build::load::Node;
use crate::build::walk::SourceFile;
use crate::error::{Warning, WarningKind};
use crate::output::scan_cache::{CachedRef, CachedScan, CachedSpan, ScanCache};
use crate::scan::html::decode_char_refs;
use crate::scan::text_ref::{TextContext, TextRef};
use crate::scan::Role;

/// What one file's scan found: its local targets, where each reference to one of them is
/// (for the reference record, `output::refs`), its warnings, and whether it parsed (a file
/// that did not is copied as it is).
pub(crate) struct Scan {
    pub targets: BTreeSet<usize>,
    /// `(line, column, target)` of every reference that resolved, in document order.
    pub positions: Vec<(u32, u32, usize)>,
    pub warnings: Vec<Warning>,
    pub rewritable: bool,
}

/// Finds a text node's local targets in its `text` (None for a file that is not text);
/// `ignored` are missing targets not to warn about. What the scanner finds is taken from
/// `cache` when it holds this text's scan: only resolving them runs again (it depends on
/// the other files, which the cache does not know).
pub(crate) fn scan(
    node: &Node,
    text: Option<&[u8]>,
    resolver: &Resolver,
    ignored: Option<&GlobSet>,
    cache: &ScanCache,
) -> Scan {
    let mut targets = BTreeSet::new();
    let mut positions = Vec::new();
    let mut warnings = Vec::new();
    let Some(bytes) = text else {
        return Scan {
            targets,
            positions,
            warnings,
            rewritable: true,
        };
    };
    let found = cache.scan(node.cache_key("scan").finish(), || {
        let scanned = crate::scan::scan(node.format, bytes, &node.charset);
        let spans = |refs: &[TextRef]| {
            refs.iter()
                .map(|r| CachedSpan::new(&r.span, r.context))
                .collect::<Option<Vec<_>>>()
        };
        CachedScan {
            refs: scanned
                .refs
                .into_iter()
                .map(|r| {
                    CachedRef(
                        r.value,
                        r.role == Role::Navigation,
                        r.line,
                        r.column,
                        r.takes_integrity,
                    )
                })
                .collect(),
            error: scanned.error.map(|e| e.to_string()),
            spans: scanned.spliced.as_deref().and_then(spans),
            strings: scanned
                .strings
                .iter()
                .filter_map(|(span, quote)| CachedSpan::new(span, TextContext::JsString(*quote)))
                .collect(),
        }
    });
    let from = &node.source.logical;
    for CachedRef(value, navigation, line, column, _) in &found.refs {
        let role = if *navigation {
            Role::Navigation
        } else {
            Role::Asset
        };
        match resolver.resolve(from, value, role) {
            Resolution::Target(t) => {
                targets.insert(t);
                positions.push((*line, *column, t));
            }
            Resolution::Untouchable => {}
            Resolution::Problem(
                WarningKind::BrokenReference { resolved: path, .. }
                | WarningKind::OutsideBase { path, .. },
            ) if ignored.is_some_and(|set| set.is_match(&path)) => {}
            Resolution::Problem(kind) => warnings.push(Warning {
                file: from.to_string(),
                line: Some(*line),
                column: Some(*column),
                kind,
            }),
        }
    }
    match found.error {
        None => Scan {
            targets,
            positions,
            warnings,
            rewritable: true,
        },
        Some(message) => {
            warnings.push(Warning {
                file: from.to_string(),
                line: None,
                column: None,
                kind: WarningKind::NotRewritten { message },
            });
            Scan {
                targets: BTreeSet::new(),
                positions: Vec::new(),
                warnings,
                rewritable: false,
            }
        }
    }
}

/// Resolves references as written to nodes.
pub(crate) struct Resolver {
    index: HashMap<LogicalPath, usize>,
    paths: Vec<LogicalPath>,
    /// The base URL when it is a path other than `/` (`/en/latest/`), percent-decoded: the
    /// path the build is served under, which root-relative references must start with.
    base_path: Option<String>,
    /// The base URL as given, for messages.
    base_url: String,
}

pub(crate) enum Resolution {
    Untouchable,
    Target(usize),
    Problem(WarningKind),
}

impl Resolver {
    /// A resolver over the walked `sources` (node `i` is `sources[i]`) for a build served
    /// under `base_url` (normalised, ending in `/`): known before any file is read, so that
    /// each file is scanned as soon as it is loaded.
    pub fn new(sources: &[SourceFile], base_url: &str) -> Self {
        Self::from_paths(
            sources.iter().map(|s| s.logical.clone()).collect(),
            base_url,
        )
    }

    /// A resolver over the files at `paths` (node `i` is `paths[i]`).
    fn from_paths(paths: Vec<LogicalPath>, base_url: &str) -> Self {
        let index = paths
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i))
            .collect();
        let base_path = (base_url.starts_with('/') && base_url != "/").then(|| {
            percent_encoding::percent_decode_str(base_url)
                .decode_utf8_lossy()
                .into_owned()
        });
        Self {
            index,
            paths,
            base_path,
            base_url: base_url.to_owned(),
        }
    }

    /// The node a logical path names, if it is a file of the input.
    pub fn lookup(&self, path: &LogicalPath) -> Option<usize> {
        self.index.get(path).copied()
    }

    /// Every file of the input, by node index.
    pub fn paths(&self) -> &[LogicalPath] {
        &self.paths
    }

    /// A decoded root-relative path as a path from the build's root: under a path base
    /// URL, the part after it (`/en/latest/x.css` → `/x.css`, `/en/latest` → `/`), or Err
    /// when it is outside it; otherwise the path itself.
    pub fn strip_base<'p>(&self, decoded: &'p str) -> Result<std::borrow::Cow<'p, str>, ()> {
        let Some(base) = &self.base_path else {
            return Ok(decoded.into());
        };
        if !decoded.starts_with('/') {
            return Ok(decoded.into());
        }
        match decoded.strip_prefix(base.trim_end_matches('/')) {
            Some("") => Ok("/".into()),
            Some(rest) if rest.starts_with('/') => Ok(rest.into()),
            _ => Err(()),
        }
    }

    /// The logical path of node `target`.
    pub fn logical(&self, target: usize) -> &LogicalPath {
        &self.paths[target]
    }

    pub fn resolve(&self, from: &LogicalPath, raw: &str, role: Role) -> Resolution {
        self.resolve_local(from, raw, role).0
    }

    /// Resolves a reference, and returns the split of it that resolved (a `%23` may have
    /// been read as a fragment).
    pub fn resolve_local<'r>(
        &self,
        from: &LogicalPath,
        raw: &'r str,
        role: Role,
    ) -> (Resolution, Option<LocalRef<'r>>) {
        let Reference::Local(local) = classify(raw) else {
            return (Resolution::Untouchable, None);
        };
        let first = self.resolve_path(from, &local, role);
        if let Resolution::Problem(WarningKind::BrokenReference { .. }) = first {
            if let Some(split) = local.with_encoded_fragment() {
                if let Resolution::Target(i) = self.resolve_path(from, &split, role) {
                    return (Resolution::Target(i), Some(split));
                }
            }
        }
        (first, Some(local))
    }

    fn resolve_path(&self, from: &LogicalPath, local: &LocalRef<'_>, role: Role) -> Resolution {
        let reference = local.trimmed.to_owned();
        let path = decode_char_refs(local.path);
        let decoded = match (LocalRef {
            path: &path,
            ..local.clone()
        })
        .decoded_path()
        {
            Ok(d) => d,
            Err(_) => return Resolution::Problem(WarningKind::Undecodable { reference }),
        };
        let decoded = match self.strip_base(&decoded) {
            Ok(d) => d,
            Err(()) if role == Role::Navigation => return Resolution::Untouchable,
            Err(()) => {
                return Resolution::Problem(WarningKind::OutsideBase {
                    reference,
                    base_url: self.base_url.clone(),
                    path: decoded.trim_start_matches('/').to_owned(),
                })
            }
        };
        let resolved = match from.resolve(&decoded) {
            Ok(p) => p,
            Err(_) => return Resolution::Problem(WarningKind::OutsideRoot { reference }),
        };
        if let Some(&i) = self.index.get(&resolved) {
            return Resolution::Target(i);
        }
        if role == Role::Navigation && !decoded.ends_with('/') {
            // Clean URLs: `/about` names `about.html` or `about/index.html`.
            for candidate in [format!("{resolved}.html"), format!("{resolved}/index.html")] {
                if let Some(&i) = LogicalPath::new(candidate)
                    .ok()
                    .and_then(|p| self.index.get(&p))
                {
                    return Resolution::Target(i);
                }
            }
        }
        Resolution::Problem(WarningKind::BrokenReference {
            reference,
            resolved: resolved.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(base_url: &str) -> Resolver {
        let paths = [
            "index.html",
            "_static/x.css",
            "guide/index.html",
            "api/v1.json",
        ];
        Resolver::from_paths(
            paths
                .iter()
                .map(|p| LogicalPath::new(*p).unwrap())
                .collect(),
            base_url,
        )
    }

    /// The logical path `raw`, written in `from`, resolves to; or the warning's kind name.
    fn resolve(r: &Resolver, from: &str, raw: &str, role: Role) -> String {
        match r.resolve(&LogicalPath::new(from).unwrap(), raw, role) {
            Resolution::Target(i) => r.logical(i).to_string(),
            Resolution::Untouchable => "untouchable".into(),
            Resolution::Problem(WarningKind::OutsideBase { path, .. }) => {
                format!("outside the base: {path}")
            }
            Resolution::Problem(kind) => format!("{kind:?}"),
        }
    }

    #[test]
    fn under_a_path_base_url_root_relative_references_start_with_it() {
        let r = resolver("/en/latest/");
        let asset = |raw| resolve(&r, "guide/index.html", raw, Role::Asset);
        assert_eq!(asset("/en/latest/_static/x.css"), "_static/x.css");
        assert_eq!(asset("/en/latest/_static/x.css?v=1#a"), "_static/x.css");
        assert_eq!(
            asset("../_static/x.css"),
            "_static/x.css",
            "relative as ever"
        );
        assert_eq!(asset("/_static/x.css"), "outside the base: _static/x.css");
        assert_eq!(
            asset("/en/latestx/_static/x.css"),
            "outside the base: en/latestx/_static/x.css"
        );
        assert_eq!(
            asset("/en/_static/x.css"),
            "outside the base: en/_static/x.css"
        );
        assert_eq!(asset("https://example.com/en/latest/x.css"), "untouchable");
        let page = |raw| resolve(&r, "guide/index.html", raw, Role::Navigation);
        assert_eq!(page("/en/latest/"), "index.html");
        assert_eq!(page("/en/latest"), "index.html");
        assert_eq!(page("/en/latest/guide/"), "guide/index.html");
        assert_eq!(page("/en/latest/guide"), "guide/index.html");
        // A link out of the build is as external as `https://…`: left alone, not reported.
        assert_eq!(page("/"), "untouchable");
        assert_eq!(page("/blog/post.html"), "untouchable");
        // `..` climbing out of the base leaves the build.
        assert!(
            asset("/en/latest/../x.css").contains("OutsideRoot"),
            "{}",
            asset("/en/latest/../x.css")
        );
    }

    #[test]
    fn a_percent_encoded_base_matches_its_decoded_references() {
        let r = resolver("/caf%C3%A9/");
        assert_eq!(
            resolve(&r, "index.html", "/caf%C3%A9/_static/x.css", Role::Asset),
            "_static/x.css"
        );
        assert_eq!(
            resolve(&r, "index.html", "/café/_static/x.css", Role::Asset),
            "_static/x.css"
        );
    }

    #[test]
    fn with_a_root_or_origin_base_root_relative_references_resolve_from_the_root() {
        for base in ["/", "https://cdn.example.com/assets/"] {
            let r = resolver(base);
            assert_eq!(
                resolve(&r, "guide/index.html", "/_static/x.css", Role::Asset),
                "_static/x.css"
            );
            assert!(resolve(
                &r,
                "guide/index.html",
                "/en/latest/_static/x.css",
                Role::Asset
            )
            .contains("BrokenReference"));
        }
    }
}
