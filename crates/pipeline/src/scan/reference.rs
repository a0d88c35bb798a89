//! What every scanner reports and every rewrite takes: a reference as found, what to change
//! about it, and why a text could not be rewritten. A leaf: the format scanners and the
//! dispatcher in `scan` all depend on it, and it on none of them.

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
    /// modulepreload links), or an import map entry (its `integrity` object).
    pub takes_integrity: bool,
}

/// What to change about a reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edit {
    /// The new URL, written in place of the old one.
    pub url: Option<String>,
    /// Add this `integrity` attribute to the element, unless it has one.
    pub integrity: Option<String>,
    /// With `integrity`: add `crossorigin="anonymous"` unless the element has a
    /// `crossorigin` attribute (SRI on a cross-origin URL needs a CORS request).
    pub cross_origin: bool,
}

/// A text that cannot be scanned or rewritten as its format; the build keeps it as written
/// and reports why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RewriteError {
    #[error("the charset `{charset}` is not ASCII-compatible")]
    Charset { charset: String },
    #[error("not UTF-8 ({reason}); only UTF-8 CSS, JS and JSON are rewritten")]
    NotUtf8 { reason: String },
    #[error("{message}")]
    Parse { message: String },
}
