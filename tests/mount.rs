//! The server library (`assetc_server::Mount` over a build) in-process, in an actix app on a
//! real socket, spoken to with raw HTTP/1.1 through `common::http`, over build directories
//! written by hand (`common::fixture`). The line numbers in the tests' comments (A1, B14, …)
//! are those of the HTTP checklist the origin was written against.

// Conditional requests, ranges, methods, 404s, directories, options and start-up checks;
// the library mounted at a prefix, and the runnable example.
mod http;
// Kept generations, reloads, the watcher, requests in flight across a swap.
mod reload;
// Precompressed variants: negotiation, one ETag per representation, Vary, ranges.
mod variants;
