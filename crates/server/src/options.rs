//! How a build is served: [`Options`] (each field says its default) and the header rules
//! they carry, and the constants of the default behaviour.

/// The default `Cache-Control` of fingerprinted URLs (RFC 9111 §5.2.2.1, RFC 8246 §2).
pub const DEFAULT_CACHE_CONTROL_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The default `Cache-Control` of entry points and logical paths (RFC 9111 §5.2.2.4).
pub const DEFAULT_CACHE_CONTROL_REVALIDATE: &str = "no-cache";
/// The `Cache-Control` of 404 and other error responses: a CDN must not keep a "missing
/// asset" during a rolling deploy.
pub const CACHE_CONTROL_NO_STORE: &str = "no-store";

/// How many files on disk are kept open by default.
pub const DEFAULT_OPEN_FILES: usize = 256;

/// The logical path whose bytes are the body of 404 responses, when the build has it.
pub const NOT_FOUND_PAGE: &str = "404.html";

/// How a build is served. `Options::default()` is the documented default behaviour.
#[derive(Debug, Clone)]
pub struct Options {
    /// `Cache-Control` of fingerprinted URLs. Default: [`DEFAULT_CACHE_CONTROL_IMMUTABLE`].
    pub cache_control_immutable: String,
    /// `Cache-Control` of entry points, logical paths of fingerprinted files, directory
    /// indexes, clean URLs, the fallback page and redirects. Default:
    /// [`DEFAULT_CACHE_CONTROL_REVALIDATE`].
    pub cache_control_revalidate: String,
    /// Total bytes of small files kept in memory; the rest is read from disk per request.
    /// Default: 64 MiB.
    pub memory_budget: u64,
    /// Files larger than this are always read from disk. Default: 256 KiB.
    pub memory_file_limit: u64,
    /// Files on disk kept open at once, least recently used closed first: the server's
    /// descriptors grow with this, not with the build. Default: [`DEFAULT_OPEN_FILES`].
    pub open_files: usize,
    /// Extra response headers by URL glob, in order (a later rule wins for the same name).
    /// Default: none.
    pub header_rules: Vec<HeaderRule>,
    /// A logical path served (200, revalidated) for a GET of any unknown path whose last
    /// segment has no extension: client-side routes of a single-page app. Unknown paths
    /// with an extension (`/app.js`) stay 404 so a missing asset is never answered with HTML.
    /// Default: none.
    pub spa_fallback: Option<String>,
    /// `/about` serves `about.html` (and `/blog/post` serves `blog/post.html`). Default: off.
    pub clean_urls: bool,
    /// A path answering `200 ok` for load balancers, e.g. `/healthz`. Default: none.
    pub health_path: Option<String>,
    /// Send each page's responses a `Link` header of preload hints for what it needs before
    /// its first render (stylesheets, their fonts, module scripts and their imports), from
    /// the manifest's references: at most 16 hints and 2048 bytes, added after any `Link`
    /// a header rule sets. Default: off.
    pub preload_links: bool,
    /// Compression dictionaries (RFC 9842): fingerprinted stylesheets, scripts and other
    /// compressible files offer themselves as dictionaries (`Use-As-Dictionary`), and a
    /// request naming one (`Available-Dictionary`) gets the build's `dcb`/`dcz` delta when
    /// it has one. Off: deltas in the manifest are not served, and nothing is offered.
    /// Default: on.
    pub dictionaries: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            cache_control_immutable: DEFAULT_CACHE_CONTROL_IMMUTABLE.to_owned(),
            cache_control_revalidate: DEFAULT_CACHE_CONTROL_REVALIDATE.to_owned(),
            memory_budget: 64 * 1024 * 1024,
            memory_file_limit: 256 * 1024,
            open_files: DEFAULT_OPEN_FILES,
            header_rules: Vec::new(),
            spa_fallback: None,
            clean_urls: false,
            health_path: None,
            preload_links: false,
            dictionaries: true,
        }
    }
}

/// Extra headers for every response to a URL path matching `glob` (matched against the
/// decoded path with its leading `/`; `*` stays within a segment, `**` crosses them):
/// `/fonts/**` or `/**/*.woff2` with `Access-Control-Allow-Origin: *`, `/**` with a CSP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    pub glob: String,
    pub headers: Vec<(String, String)>,
}
