//! End-to-end tests in one binary (ripgrep's and just's shape): the real `assetc` binary on
//! trees written into temp dirs, checked through its output files and, for the server, over
//! real sockets with real clients; and the server library in-process on a real socket.

// Varnish and nginx in front of two replicas with the shipped configurations (and the stock
// ones, as documented negative cases); `--preload-links`.
mod cache;
// `assetc build`: output tree and manifest snapshots, HTML references, determinism, the
// refusals (bad paths, a concurrent build), Last-Modified carried over.
mod build;
// Shared helpers: the binary runner and source trees (`mod.rs`), the HTTP client (`http`),
// the servers (`server`), hand-written build directories (`fixture`).
mod common;
// Precompressed variants on the build side and incremental rebuilds.
mod compression;
// Kept generations, `clean`, `verify`, and builds killed at any moment.
mod deploys;
// Compression dictionary deltas (RFC 9842): dcb/dcz against the previous generation.
mod dictionaries;
// `assetc dev`: live rebuilds, the injected script, the event stream.
mod dev;
// `assetc explain`: why names changed (chains, positions, cycles, `--changed` byte counts),
// from the build directory alone, and its `--json` against ARCHITECTURE.md.
mod explain;
// Faults: full disks, unreadable and changing files, huge files and trees.
mod faults;
// Hostile input against `assetc serve`: the exact-status corpus, slow clients, `wrk`.
mod hostile;
// Error messages: the path at fault, each cause once, hints on their own line.
mod messages;
// The server library (`Mount`) in-process: HTTP semantics, reloads, variants.
mod mount;
// `assetc publish` against s3s-fs behind a logging proxy: headers and bytes read back, the
// upload order, kills and reruns, refreshes, `--delete`, `--variants keys`, the errors.
#[cfg(feature = "publish")]
mod publish;
// Real published packages, fetched and built (only with `--features realworld`, which
// `just test-realworld` sets: it downloads them).
#[cfg(feature = "realworld")]
mod realworld;
// CSS, JS, source-map and web-manifest references rewritten in the output.
mod references;
// Far more files than descriptors: 20,000 files served under `ulimit -n 256`.
mod scale;
// `assetc serve` end to end with curl and raw sockets: caching, replicas, reloads, signals.
mod serve;
