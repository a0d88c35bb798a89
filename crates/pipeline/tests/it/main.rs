//! The pipeline library's integration tests in one binary: reference rewriting checked on
//! generated documents and on the committed fuzz corpora, through its public API.

// The property checks the fuzz targets run (`fuzz/src/pipeline_checks.rs`).
#[path = "../../../../fuzz/src/pipeline_checks.rs"]
mod checks;
// The committed fuzz corpora replayed through `checks`.
mod fuzz_corpus;
// proptest properties: rewrites change only references and are idempotent.
mod properties;
// Replays one corpus (`fuzz/src/replay.rs`).
#[path = "../../../../fuzz/src/replay.rs"]
mod replay;
