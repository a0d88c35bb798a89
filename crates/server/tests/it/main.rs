//! The server library's integration tests in one binary: its pure request logic (ranges,
//! negotiation, dates, entity tags) checked on generated and on committed inputs. The HTTP
//! behaviour over a socket is tested from the root package (`tests/mount.rs`), beside the
//! binary's, with the same client.

// The property checks the fuzz targets run (`fuzz/src/server_checks.rs`).
#[path = "../../../../fuzz/src/server_checks.rs"]
mod checks;
// The committed fuzz corpora replayed through `checks`.
mod fuzz_corpus;
// proptest properties, each also feeding its input through `checks`.
mod properties;
// Replays one corpus (`fuzz/src/replay.rs`).
#[path = "../../../../fuzz/src/replay.rs"]
mod replay;
