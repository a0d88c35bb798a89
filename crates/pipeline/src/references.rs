//! One entry point for finding and rewriting references in every format the build
//! understands: the same walk serves the scan (the visitor returns no edit) and the rewrite.

use assetc_core::LogicalPath;

use crate::css::scan_css;
use crate::html::{rewrite_html, HtmlEdit};
use crate::js::scan_js;
use crate::json_refs::{scan_json, SOURCE_MAP_PATHS, WEB_MANIFEST_PATHS};
use crate::text_ref::{splice, TextRef};

/// The format of a file, which decides how its references are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Css,
    Js,
    SourceMap,
    WebManifest,
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
            _ => Format::Opaque,
        }
    }

    pub fn is_text(self) -> bool {
        self != Format::Opaque
    }
}

/// What kind of target a reference expects, which decides how a missing target is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A subresource: must name a file.
    Asset,
    /// A navigation (`<a href>`, `<iframe src>`): may name a page by its clean URL or directory.
    Navigation,
}

/// A reference as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRef {
    /// The URL as written (HTML character references not decoded; CSS and JS escapes resolved).
    pub value: String,
    pub role: Role,
    pub line: u32,
    pub column: u32,
    /// An HTML element that takes an `integrity` attribute (`<script src>`, stylesheet and
    /// modulepreload links).
    pub takes_integrity: bool,
}

/// What to change about a reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edit {
    pub url: Option<String>,
    /// Add `integrity` (and `crossorigin` when `cross_origin`) to the element.
    pub integrity: Option<String>,
    pub cross_origin: bool,
}

/// Runs `visit` on every reference in `text` and applies its edits. Fails (with a message for
/// a warning) when the text cannot be parsed as its format.
pub fn rewrite(
    format: Format,
    text: &[u8],
    charset: &str,
    mut visit: impl FnMut(&FoundRef) -> Edit,
) -> Result<Vec<u8>, String> {
    if format == Format::Html {
        return rewrite_html(text, charset, |r| {
            let edit = visit(r);
            HtmlEdit {
                url: edit.url,
                integrity: edit.integrity,
                cross_origin: edit.cross_origin,
            }
        });
    }
    let source = std::str::from_utf8(text)
        .map_err(|e| format!("not UTF-8 ({e}); only UTF-8 CSS, JS and JSON are rewritten"))?;
    let refs: Vec<TextRef> = match format {
        Format::Css => scan_css(source),
        Format::Js => scan_js(source),
        Format::SourceMap => scan_json(source, SOURCE_MAP_PATHS).map_err(|e| e.to_string())?,
        Format::WebManifest => scan_json(source, WEB_MANIFEST_PATHS).map_err(|e| e.to_string())?,
        Format::Html | Format::Opaque => Vec::new(),
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
