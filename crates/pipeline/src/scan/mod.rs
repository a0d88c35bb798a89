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

use assetc_core::LogicalPath;

use crate::scan::css::scan_css;
use crate::scan::html::rewrite_html;
use crate::scan::js::scan_js;
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

/// Runs `visit` on every reference in `text` and applies its edits. Fails (for a warning)
/// when the text cannot be parsed as its format.
pub fn rewrite(
    format: Format,
    text: &[u8],
    charset: &str,
    mut visit: impl FnMut(&FoundRef) -> Edit,
) -> Result<Vec<u8>, RewriteError> {
    if format == Format::Html {
        return rewrite_html(text, charset, visit);
    }
    let source = std::str::from_utf8(text).map_err(|e| RewriteError::NotUtf8 {
        reason: e.to_string(),
    })?;
    let parse = |e: crate::scan::json_refs::JsonError| RewriteError::Parse {
        message: e.to_string(),
    };
    let refs: Vec<TextRef> = match format {
        Format::Css => scan_css(source),
        Format::Js => scan_js(source),
        Format::WebManifest => scan_json(source, WEB_MANIFEST_PATHS).map_err(parse)?,
        Format::Html | Format::SourceMap | Format::Json | Format::Opaque => Vec::new(),
    };
    let mut replacements = Vec::new();
    for r in &refs {
        let found = FoundRef {
            value: r.value.clone(),
            role: Role::Asset,
            line: r.line,
            column: r.column,
            takes_integrity: false,
        };
        if let Some(url) = visit(&found).url {
            replacements.push((r, url));
        }
    }
    if replacements.is_empty() {
        return Ok(text.to_vec());
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
