//! Finding and rewriting references, in every format the build understands, with no IO:
//! one entry point ([`rewrite`]) whose walk serves both the scan (the visitor returns no
//! edit) and the rewrite. The formats are leaves beside it: `html` (lol_html), `css`
//! (cssparser tokens), `js` (a lexer), `json_refs` (web manifests, import maps), over
//! `text_ref` (byte-exact splicing) and `reference` (what they all report).

pub mod css;
pub mod html;
pub mod js;
pub mod json_refs;
pub mod reference;
pub mod text_ref;

use std::ops::Range;

use assetc_core::LogicalPath;

use crate::scan::css::scan_css;
use crate::scan::html::rewrite_html;
use crate::scan::js::{may_name_a_file, scan_js, scan_js_and_strings};
use crate::scan::json_refs::{scan_json, WEB_MANIFEST_PATHS};
pub use crate::scan::reference::{Edit, FoundRef, RewriteError, Role};
use crate::scan::text_ref::{splice, TextRef};

/// The format of a file, which decides how its references are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Css,
    Js,
    /// A source map (`.map`): named by the file that maps to it, referencing nothing. Its
    /// `file` is a name (ECMA-426: "an optional name of the generated code"), which no
    /// decoder resolves, so it is not a reference and is never rewritten or warned about;
    /// reading it as one made every script and its map a reference cycle. Its `sources`
    /// are the originals, resolved against `sourceRoot`, not files of the site. So a map is
    /// streamed like an image, never held in memory.
    SourceMap,
    WebManifest,
    /// Other JSON (`.json`): nothing in it is a reference by any spec, so nothing is
    /// rewritten; it is read only for the strings that name files code may fetch at run
    /// time (`build/runtime_urls.rs`).
    Json,
    /// Not scanned: images, fonts, and every format without references.
    Opaque,
}

impl Format {
    pub fn of(path: &LogicalPath) -> Self {
        match path.extension().as_deref() {
            Some("html" | "htm") => Format::Html,
            Some("css") => Format::Css,
            Some("js" | "mjs") => Format::Js,
            Some("map") => Format::SourceMap,
            Some("webmanifest") => Format::WebManifest,
            Some("json") if path.file_name() == "manifest.json" => Format::WebManifest,
            Some("json") => Format::Json,
            _ => Format::Opaque,
        }
    }

    /// Whether the build holds the file in memory to scan it.
    pub fn is_text(self) -> bool {
        !matches!(self, Format::Opaque | Format::SourceMap)
    }
}

/// What one scan of a text found: every reference as `rewrite` visits it; for the formats
/// spliced byte-exactly (CSS, JS, web manifests) the references with their spans too, so
/// that naming splices them without parsing the text again ([`rewrite_spliced`]); and for
/// JS and other JSON, the spans of the strings that may name a file code fetches at run time
/// ([`js::may_name_a_file`]), with their quotes, so that the runtime-URL search does not lex
/// them again. `error` is why the text cannot be rewritten, if it cannot.
#[derive(Debug, Default)]
pub struct Scanned {
    pub refs: Vec<FoundRef>,
    /// None for HTML (lol_html rewrites it).
    pub spliced: Option<Vec<TextRef>>,
    pub strings: Vec<(Range<usize>, char)>,
    pub error: Option<RewriteError>,
}

/// Scans `text` in its format: one pass of its parser.
pub fn scan(format: Format, text: &[u8], charset: &str) -> Scanned {
    if format == Format::Html {
        let mut refs = Vec::new();
        let error = rewrite_html(text, charset, |r| {
            refs.push(r.clone());
            Edit::default()
        })
        .err();
        return Scanned {
            refs,
            error,
            ..Scanned::default()
        };
    }
    let source = match std::str::from_utf8(text) {
        Ok(source) => source,
        Err(e) => {
            return Scanned {
                error: Some(RewriteError::NotUtf8 {
                    reason: e.to_string(),
                }),
                ..Scanned::default()
            }
        }
    };
    let (spliced, strings) = match format {
        Format::Js => scan_js_and_strings(source, may_name_a_file),
        // Nothing in other JSON is a reference, but its strings may be runtime URLs.
        Format::Json => (Vec::new(), json_strings(source)),
        _ => match text_refs(format, source) {
            Ok(refs) => (refs, Vec::new()),
            Err(error) => {
                return Scanned {
                    error: Some(error),
                    ..Scanned::default()
                }
            }
        },
    };
    Scanned {
        refs: spliced.iter().map(found).collect(),
        spliced: Some(spliced),
        strings,
        error: None,
    }
}

/// The strings of a JSON text that may name a file (JSON's strings are JS's).
fn json_strings(source: &str) -> Vec<(Range<usize>, char)> {
    scan_js_and_strings(source, may_name_a_file).1
}

/// Runs `visit` on every reference in `text` and applies its edits. Fails (for a warning)
/// when the text cannot be parsed as its format.
pub fn rewrite(
    format: Format,
    text: &[u8],
    charset: &str,
    visit: impl FnMut(&FoundRef) -> Edit,
) -> Result<Vec<u8>, RewriteError> {
    if format == Format::Html {
        return rewrite_html(text, charset, visit);
    }
    let source = std::str::from_utf8(text).map_err(|e| RewriteError::NotUtf8 {
        reason: e.to_string(),
    })?;
    rewrite_spliced(source, &text_refs(format, source)?, visit)
}

/// The references of a text that is not HTML, with their spans.
fn text_refs(format: Format, source: &str) -> Result<Vec<TextRef>, RewriteError> {
    let parse = |e: crate::scan::json_refs::JsonError| RewriteError::Parse {
        message: e.to_string(),
    };
    Ok(match format {
        Format::Css => scan_css(source),
        Format::Js => scan_js(source),
        Format::WebManifest => scan_json(source, WEB_MANIFEST_PATHS).map_err(parse)?,
        Format::Html | Format::SourceMap | Format::Json | Format::Opaque => Vec::new(),
    })
}

fn found(r: &TextRef) -> FoundRef {
    FoundRef {
        value: r.value.clone(),
        role: Role::Asset,
        line: r.line,
        column: r.column,
        takes_integrity: false,
    }
}

/// Runs `visit` on each of `refs`, the references a scan of `source` found with their spans,
/// and splices its edits in: what [`rewrite`] does after its scan.
pub fn rewrite_spliced(
    source: &str,
    refs: &[TextRef],
    mut visit: impl FnMut(&FoundRef) -> Edit,
) -> Result<Vec<u8>, RewriteError> {
    let mut replacements = Vec::new();
    for r in refs {
        if let Some(url) = visit(&found(r)).url {
            replacements.push((r, url));
        }
    }
    if replacements.is_empty() {
        return Ok(source.as_bytes().to_vec());
    }
    Ok(splice(source, replacements).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The references `rewrite` visits in `text`, each rewritten to `renamed.js`, and
    /// whether the text changed.
    fn visited(format: Format, text: &str) -> (Vec<String>, bool) {
        let mut found = Vec::new();
        let out = rewrite(format, text.as_bytes(), "utf-8", |r| {
            found.push(r.value.clone());
            Edit {
                url: Some("renamed.js".into()),
                ..Edit::default()
            }
        })
        .unwrap();
        (found, out != text.as_bytes())
    }

    #[test]
    fn a_splice_at_the_scans_spans_is_the_rewrite() {
        let texts = [
            (Format::Css, "@import 'a.css';\nb { background: url(img/b\\ c.png) }\n/*# sourceMappingURL=b.css.map */"),
            (Format::Js, "import a from './a.js';\nconst u = new URL(\"x.svg\", import.meta.url);\n//# sourceMappingURL=m.js.map"),
            (Format::WebManifest, r#"{"icons": [{"src": "i\u0063on.png"}], "start_url": "/"}"#),
        ];
        for (format, text) in texts {
            let visit = |r: &FoundRef| Edit {
                url: Some(format!("{}?v=\"é ", r.value)),
                ..Edit::default()
            };
            let scanned = scan(format, text.as_bytes(), "utf-8");
            assert_eq!(scanned.error, None);
            let refs = scanned.spliced.expect("spliced formats keep spans");
            assert!(!refs.is_empty());
            assert_eq!(
                rewrite_spliced(text, &refs, visit).unwrap(),
                rewrite(format, text.as_bytes(), "utf-8", visit).unwrap(),
                "{format:?}"
            );
        }
        // A page is rewritten by lol_html: no spans.
        assert!(scan(Format::Html, b"<img src=a.png>", "utf-8")
            .spliced
            .is_none());
    }

    #[test]
    fn a_source_map_references_nothing_and_is_streamed() {
        // furo's map names its file `scripts/furo.js` and Material's `main.css`: names, not
        // paths relative to the map (ECMA-426), so never references, never warned about.
        let map = r#"{"version":3,"file":"scripts/furo.js","sources":["../src/furo.js"],"mappings":"AAAA"}"#;
        assert_eq!(visited(Format::SourceMap, map), (Vec::new(), false));
        let path = LogicalPath::new("_static/scripts/furo.js.map").unwrap();
        assert_eq!(Format::of(&path), Format::SourceMap);
        assert!(!Format::SourceMap.is_text(), "held in memory for nothing");
    }

    #[test]
    fn other_json_is_held_for_its_strings_but_never_rewritten() {
        let path = LogicalPath::new("search/search_index.json").unwrap();
        assert_eq!(Format::of(&path), Format::Json);
        assert!(Format::Json.is_text());
        let json = r#"{"config": {"lang": ["en"]}, "docs": [{"location": "a.png"}]}"#;
        assert_eq!(visited(Format::Json, json), (Vec::new(), false));
        // A web manifest's icons still are references.
        let manifest = r#"{"icons": [{"src": "a.png"}]}"#;
        assert_eq!(
            visited(Format::WebManifest, manifest),
            (vec!["a.png".into()], true)
        );
    }
}
