//! Runtime URLs: strings in JavaScript, JSON and inline scripts that name a file the build
//! renames, reported as notes with `file:line:column`.
//!
//! Some references exist only as strings that code fetches at run time (Vite's preload list
//! and the asset URLs it inlines, Material for MkDocs' search worker and index, Django
//! admin's `__admin_media_prefix__ + "img/…"`). No rewriter can see them: rewriting a
//! string because it looks like a path would change data that is not a URL. They load under
//! `assetc serve`, which answers logical paths, and 404 on nginx, a CDN or a bucket, unless
//! the file keeps its name (`--already-hashed`, `--entry-point`) or the output holds its
//! logical path too (`--logical-paths`).
//!
//! These are notes, never warnings: a string equal to a file's path is evidence, not proof,
//! of a fetch (an object key, a label, a server-side manifest), and `--strict` must not fail
//! on valid output such as a Vite build's. A string names a file when, as a URL written in
//! that file, it resolves to it (relative to the file, or from the root, under a path base
//! URL only after it); or, relative and containing a `/`, when it is a path suffix of files
//! (the prefix is added at run time); and the file must have an extension. Only files whose
//! served name differs from their logical path are reported. A package's own metadata
//! (`package.json`, …) is read by tools, never fetched by a page, so it is not read, nor is a
//! CommonJS `require("…")` argument.
//!
//! It costs no lexing of its own: the scan kept, in the same pass that found a script's
//! references, the strings of every script and JSON file that may name a file at all
//! (`scan::js::may_name_a_file`); a file with none is not read again, and of the others
//! only the strings whose last segment, as written, is the name of a renamed file are
//! looked at closer.

use std::collections::{HashMap, HashSet};

use assetc_core::url_ref::{classify, Reference};
use assetc_core::LogicalPath;
use rayon::prelude::*;

use crate::build::load::Node;
use crate::build::naming::Named;
use crate::build::resolve::Resolver;
use crate::error::{BuildError, Note, NoteKind};
use crate::output::scan_cache::{CachedNote, Key, ScanCache};
use crate::scan::html::inline_script_strings;
use crate::scan::js::{
    decoded_strings, may_name_a_file, scan_js_and_strings, written_file_name, MAX_NAME_LENGTH,
};
use crate::scan::text_ref::TextRef;
use crate::scan::Format;

/// JSON that describes a package to its tools (npm, bower, composer, TypeScript): the file
/// names in it are never fetched by a page.
const METADATA_JSON: &[&str] = &[
    "package.json",
    "package-lock.json",
    "bower.json",
    "composer.json",
    "tsconfig.json",
    "jsconfig.json",
];

/// The notes for every string of every scanned file, in file order.
pub(crate) fn runtime_urls(
    nodes: &[Node],
    named: &[Named],
    resolver: &Resolver,
    cache: &ScanCache,
) -> Result<Vec<Note>, BuildError> {
    let renamed: Vec<bool> = nodes
        .iter()
        .zip(named)
        .map(|(n, named)| named.served != n.source.logical)
        .collect();
    if !renamed.contains(&true) {
        return Ok(Vec::new());
    }
    // Every proper suffix of two segments or more of a renamed file's path, for strings
    // that a prefix is added to at run time.
    let mut suffixes: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, path) in resolver.paths().iter().enumerate() {
        if !renamed[i] {
            continue;
        }
        let path = path.as_str();
        for (at, _) in path.match_indices('/') {
            let suffix = &path[at + 1..];
            if suffix.contains('/') {
                suffixes.entry(suffix).or_default().push(i);
            }
        }
    }
    let file_names: HashSet<&str> = resolver
        .paths()
        .iter()
        .zip(&renamed)
        .filter(|(_, &r)| r)
        .map(|(p, _)| p.file_name())
        .collect();
    let finder = Finder {
        resolver,
        named,
        renamed: &renamed,
        cache,
        suffixes,
        file_names,
    };
    // What a file's strings name depends on its bytes and on which files are renamed (not
    // on their new names): the cache key.
    let mut renamed_key = Key::new("renamed");
    for (path, _) in resolver.paths().iter().zip(&renamed).filter(|(_, &r)| r) {
        renamed_key.add(path.as_str().as_bytes());
    }
    let renamed_key = renamed_key.finish();
    let notes: Vec<Vec<Note>> = nodes
        .par_iter()
        .map(|node| {
            if !matches!(node.format, Format::Js | Format::Json | Format::Html) {
                return Ok(Vec::new());
            }
            let mut key = node.cache_key("notes");
            key.add(node.source.logical.as_str().as_bytes())
                .add(&renamed_key);
            let found = cache.notes(key.finish(), || finder.notes(node))?;
            match finder.with_served(node, found) {
                Some(notes) => Ok(notes),
                None => Ok(finder
                    .with_served(node, finder.notes(node)?)
                    .expect("the search names renamed files only")),
            }
        })
        .collect::<Result<_, BuildError>>()?;
    Ok(notes.into_iter().flatten().collect())
}

struct Finder<'a> {
    resolver: &'a Resolver,
    named: &'a [Named],
    renamed: &'a [bool],
    /// For what the scan found.
    cache: &'a ScanCache,
    suffixes: HashMap<&'a str, Vec<usize>>,
    /// The file names of the renamed files: a string that ends in none of them names none.
    file_names: HashSet<&'a str>,
}

impl Finder<'_> {
    /// The notes of one file, with their targets by logical path (the served names are
    /// this build's, added by [`Finder::with_served`]).
    fn notes(&self, node: &Node) -> Result<Vec<CachedNote>, BuildError> {
        // Only these formats hold strings worth a look: the others are not read again.
        if !matches!(node.format, Format::Js | Format::Json | Format::Html) {
            return Ok(Vec::new());
        }
        if node.format == Format::Json && METADATA_JSON.contains(&node.source.logical.file_name()) {
            return Ok(Vec::new());
        }
        // The scan kept the strings of a script or JSON that may name a file: with none,
        // the file is not read again, and otherwise not lexed again.
        let scanned = match node.format {
            Format::Js | Format::Json => self.cache.scanned(&node.cache_key("scan").finish()),
            _ => None,
        };
        if scanned.as_ref().is_some_and(|s| s.strings.is_empty()) {
            return Ok(Vec::new());
        }
        let Some(text) = node.text()? else {
            return Ok(Vec::new());
        };
        let bytes = &text[..];
        let keep = |raw: &str| self.may_name(raw);
        let strings: Vec<TextRef> = match node.format {
            Format::Js | Format::Json => {
                let Ok(source) = std::str::from_utf8(bytes) else {
                    return Ok(Vec::new());
                };
                let spans = match scanned.and_then(|s| s.strings(source)) {
                    Some(spans) => spans,
                    None => scan_js_and_strings(source, may_name_a_file).1,
                };
                let spans = spans
                    .into_iter()
                    .filter(|(span, _)| keep(&source[span.clone()]))
                    .collect();
                decoded_strings(source, spans)
            }
            Format::Html if has_inline_script(bytes) => {
                inline_script_strings(bytes, &node.charset, keep).unwrap_or_default()
            }
            _ => return Ok(Vec::new()),
        };
        let from = &node.source.logical;
        Ok(strings
            .into_iter()
            .filter_map(|s| {
                let (target, others) = self.target(from, &s.value)?;
                Some(CachedNote {
                    line: s.line,
                    column: s.column,
                    string: s.value,
                    target: self.resolver.logical(target).to_string(),
                    others,
                })
            })
            .collect())
    }

    /// `found` in `node` as notes, each with its target's served name; None when a target
    /// is not a renamed file of this build (a cache entry that cannot be right).
    fn with_served(&self, node: &Node, found: Vec<CachedNote>) -> Option<Vec<Note>> {
        found
            .into_iter()
            .map(|n| {
                let target = self
                    .resolver
                    .lookup(&LogicalPath::new(n.target.as_str()).ok()?)?;
                self.renamed[target].then(|| Note {
                    file: node.source.logical.to_string(),
                    line: n.line,
                    column: n.column,
                    kind: NoteKind::RuntimeUrl {
                        served: self.named[target].served.to_string(),
                        target: n.target,
                        string: n.string,
                        others: n.others,
                    },
                })
            })
            .collect()
    }

    /// Whether a string, as written, may name a renamed file: one that may name a file at
    /// all, whose last segment is one of their names (or escaped, so that only its decoding
    /// tells).
    fn may_name(&self, raw: &str) -> bool {
        may_name_a_file(raw)
            && written_file_name(raw).is_none_or(|name| self.file_names.contains(name))
    }

    /// The renamed file `value`, a string in the file at `from`, names, and how many other
    /// renamed files it could name as well.
    fn target(&self, from: &LogicalPath, value: &str) -> Option<(usize, usize)> {
        if value.len() > MAX_NAME_LENGTH
            || value.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return None;
        }
        let Reference::Local(local) = classify(value) else {
            return None;
        };
        let path = local.decoded_path().ok()?;
        let file_name = path.rsplit('/').next().unwrap_or_default();
        let has_extension = file_name
            .rsplit_once('.')
            .is_some_and(|(stem, ext)| !stem.is_empty() && !ext.is_empty());
        if !has_extension {
            return None;
        }
        let renamed = |p: LogicalPath| self.resolver.lookup(&p).filter(|&i| self.renamed[i]);
        let exact = if path.starts_with('/') {
            // Root-relative: under a path base URL, only what starts with it.
            let stripped = self.resolver.strip_base(&path).ok()?;
            from.resolve(&stripped).ok().and_then(renamed)
        } else {
            from.resolve(&path)
                .ok()
                .and_then(renamed)
                .or_else(|| from.resolve(&format!("/{path}")).ok().and_then(renamed))
        };
        if let Some(i) = exact {
            return Some((i, 0));
        }
        if path.starts_with('/') || path.starts_with("../") {
            return None;
        }
        let matches = self.suffixes.get(path.trim_start_matches("./"))?;
        Some((matches[0], matches.len() - 1))
    }
}

/// Whether an HTML document has a `<script>` without `src` (a byte scan: most pages have
/// none worth a second parse, and a tag that only looks like one costs just that parse).
fn has_inline_script(html: &[u8]) -> bool {
    let mut rest = html;
    while let Some(at) = find(rest, b"<script") {
        let tag = &rest[at..];
        let end = tag.iter().position(|&b| b == b'>').unwrap_or(tag.len());
        if !tag[..end]
            .to_ascii_lowercase()
            .windows(3)
            .any(|w| w == b"src")
        {
            return true;
        }
        rest = &tag[end..];
    }
    false
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use crate::build::options::LogicalPaths;
    use crate::build::{build, BuildOptions};
    use crate::error::NoteKind;

    /// The notes of a build of `files` with the options `tweak` sets, as
    /// `file:line:column string -> target (+others)`.
    fn notes(files: &[(&str, &str)], tweak: impl FnOnce(&mut BuildOptions)) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join("in").join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let mut options = BuildOptions::new(dir.path().join("in"), dir.path().join("out"), 0);
        options.compress.codings.clear();
        tweak(&mut options);
        let report = build(&options).unwrap();
        assert_eq!(report.warnings, [], "notes are never warnings");
        report
            .notes
            .iter()
            .map(|n| match &n.kind {
                NoteKind::RuntimeUrl {
                    string,
                    target,
                    others,
                    ..
                } => format!(
                    "{}:{}:{} {string} -> {target} (+{others})",
                    n.file, n.line, n.column
                ),
            })
            .collect()
    }

    const VITE: &[(&str, &str)] = &[
        (
            "index.html",
            r#"<script type="module" src="/assets/index-AAAAAAAA.js"></script>"#,
        ),
        (
            "assets/index-AAAAAAAA.js",
            "const __vite__mapDeps=(i,m=__vite__mapDeps,d=(m.f||(m.f=[\"assets/About-BBBBBBBB.js\",\"assets/About-CCCCCCCC.css\"])))=>i.map(i=>d[i]);\nimport(\"./About-BBBBBBBB.js\");\nvar logo=`/assets/logo-DDDDDDDD.svg`, label=\"About\";",
        ),
        ("assets/About-BBBBBBBB.js", r#"import "./index-AAAAAAAA.js";"#),
        ("assets/About-CCCCCCCC.css", "a{}"),
        ("assets/logo-DDDDDDDD.svg", "<svg/>"),
    ];

    #[test]
    fn strings_naming_renamed_files_are_noted_with_where_they_are() {
        assert_eq!(
            notes(VITE, |_| {}),
            [
                "assets/index-AAAAAAAA.js:1:59 assets/About-BBBBBBBB.js -> assets/About-BBBBBBBB.js (+0)",
                "assets/index-AAAAAAAA.js:1:86 assets/About-CCCCCCCC.css -> assets/About-CCCCCCCC.css (+0)",
                // The import() is a reference the build rewrites, not a runtime URL.
                "assets/index-AAAAAAAA.js:3:11 /assets/logo-DDDDDDDD.svg -> assets/logo-DDDDDDDD.svg (+0)",
            ]
        );
    }

    #[test]
    fn files_that_keep_their_names_are_not_noted() {
        let hashed = notes(VITE, |o| o.already_hashed = vec!["assets/**".into()]);
        assert_eq!(hashed, Vec::<String>::new());
        let entry = notes(VITE, |o| o.entry_points = vec!["assets/*".into()]);
        assert_eq!(entry, Vec::<String>::new());
        // With the logical paths written, every runtime URL loads: nothing to note.
        let linked = notes(VITE, |o| o.logical_paths = LogicalPaths::Link);
        assert_eq!(linked, Vec::<String>::new());
    }

    #[test]
    fn under_a_path_base_url_only_root_relative_strings_under_it_name_files() {
        let files = &[
            (
                "app.js",
                "a=\"/sub/path/img/x.png\"; b=\"/img/x.png\"; c=\"img/x.png\";",
            ),
            ("img/x.png", "x"),
        ];
        assert_eq!(
            notes(files, |o| o.base_url = "/sub/path/".into()),
            [
                "app.js:1:4 /sub/path/img/x.png -> img/x.png (+0)",
                "app.js:1:45 img/x.png -> img/x.png (+0)"
            ]
        );
    }

    #[test]
    fn a_relative_string_with_a_directory_may_name_a_path_suffix() {
        // Django's admin: `window.__admin_media_prefix__ + "img/icon-calendar.svg"`.
        let files = &[
            (
                "admin/js/admin/DateTimeShortcuts.js",
                "src = window.__admin_media_prefix__ + \"img/icon-calendar.svg\"; t = \"icon-clock.svg\";",
            ),
            ("admin/img/icon-calendar.svg", "<svg/>"),
            ("admin/img/icon-clock.svg", "<svg/>"),
            ("search/index.json", "{\"config\": {\"worker\": \"w.js\"}, \"docs\": [\"guide/\"]}"),
            ("guide/index.html", "g"),
        ];
        assert_eq!(
            notes(files, |_| {}),
            ["admin/js/admin/DateTimeShortcuts.js:1:40 img/icon-calendar.svg -> admin/img/icon-calendar.svg (+0)"],
            "a bare file name is matched only where it resolves; pages keep their names"
        );
    }

    #[test]
    fn json_files_and_inline_scripts_are_read_too() {
        let files = &[
            (
                "index.html",
                r#"<script id="__config" type="application/json">{"search": "assets/workers/search.js"}</script>"#,
            ),
            ("assets/workers/search.js", "1"),
            (
                "data/routes.json",
                r#"{"logo": "/img/logo.svg", "name": "logo.svg"}"#,
            ),
            ("img/logo.svg", "<svg/>"),
            (
                "x.js.map",
                r#"{"version":3,"file":"x.js","sources":["img/logo.svg"]}"#,
            ),
            ("x.js", "1\n//# sourceMappingURL=x.js.map"),
        ];
        assert_eq!(
            notes(files, |_| {}),
            [
                "data/routes.json:1:11 /img/logo.svg -> img/logo.svg (+0)",
                "index.html:1:59 assets/workers/search.js -> assets/workers/search.js (+0)",
            ],
            "a source map is data for debuggers, not code: never read"
        );
    }

    #[test]
    fn package_metadata_and_commonjs_requires_are_not_runtime_urls() {
        // Bootstrap's UMD files and package.json: read by bundlers and npm, not fetched.
        let files = &[
            (
                "pkg/js/dist/alert.js",
                "factory(require('./base.js')); fetch('./data.json');",
            ),
            ("pkg/js/dist/base.js", "1"),
            ("pkg/js/dist/data.json", "{}"),
            ("pkg/package.json", r#"{"main": "js/dist/alert.js"}"#),
        ];
        assert_eq!(
            notes(files, |_| {}),
            ["pkg/js/dist/alert.js:1:39 ./data.json -> pkg/js/dist/data.json (+0)"]
        );
    }

    #[test]
    fn escaped_names_are_decoded_before_they_are_matched() {
        let files = &[
            (
                "app.js",
                r#"a = "img/caf\u00e9.png"; b = "img/caf%C3%A9.png";"#,
            ),
            ("img/café.png", "x"),
        ];
        assert_eq!(
            notes(files, |_| {}),
            [
                "app.js:1:6 img/café.png -> img/café.png (+0)",
                "app.js:1:31 img/caf%C3%A9.png -> img/café.png (+0)",
            ]
        );
    }

    #[test]
    fn pages_without_inline_scripts_are_not_parsed_again() {
        assert!(!super::has_inline_script(
            br#"<script src="a.js"></script><SCRIPT SRC=b.js></SCRIPT>"#
        ));
        assert!(super::has_inline_script(
            br#"<script src="a.js"></script><script>x()</script>"#
        ));
        assert!(super::has_inline_script(
            br#"<Script type="application/json">{}</script>"#
        ));
    }
}
