//! assetc's origin: an actix-web service that serves a build from its manifest, with exact
//! HTTP caching semantics (RFC 9110, RFC 9111, RFC 8246).
//!
//! A [`Build`] is loaded once ([`Build::open`]): the manifest is checked against the files
//! and every URL becomes a route whose headers are built in advance. A [`Mount`] serves it
//! at a prefix inside any actix-web `App`, and answers templates' questions:
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer};
//! use assetc_server::{Build, Mount, Options};
//!
//! # async fn run() -> std::io::Result<()> {
//! let build = Build::open("build", &Options::default()).expect("a valid build");
//! let assets = Mount::new("/static", build);
//! let app_assets = assets.clone();
//! HttpServer::new(move || App::new().app_data(web::Data::new(app_assets.clone())).service(app_assets.clone()))
//!     .bind("127.0.0.1:8080")?
//!     .run()
//!     .await
//! # }
//! ```
//!
//! Requests are decided by pure functions (`negotiate`, `decide`, `path::decode`) and
//! answered in one place (`respond`). Nothing at request time hashes, walks a directory,
//! joins paths or calls `stat`.
//!
//! A new build swapped in at the root is loaded in the background and replaces the served
//! one atomically ([`Mount::reload`], or a [`Watcher`] that notices the swap): requests in
//! flight finish on the build they started with, and a broken new build is refused while
//! the old one keeps serving.

mod body;
mod build;
mod error;
mod handles;
mod header_rules;
pub mod http;
mod load;
mod options;
mod preload;
mod reload;
mod respond;
mod route;
mod service;
mod stamp;

// The parsers at the paths they had before `http/` grouped them.
pub use http::{date, etag, negotiate, path, range};

pub use build::Build;
pub use error::LoadError;
pub use http::decide::{decide, Decision, Validators};
pub use http::negotiate::{negotiate, Coding, Negotiated};
pub use options::{
    HeaderRule, Options, CACHE_CONTROL_NO_STORE, DEFAULT_CACHE_CONTROL_IMMUTABLE,
    DEFAULT_CACHE_CONTROL_REVALIDATE, NOT_FOUND_PAGE,
};
pub use reload::{ReloadHandle, WatchStatus, Watcher, DEFAULT_WATCH_INTERVAL, RELOAD_LOG_TARGET};
pub use service::{AccessLog, Mount, Reloaded, ACCESS_LOG_TARGET};
pub use stamp::Stamp;
