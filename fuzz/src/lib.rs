//! The properties the fuzz targets check, one module per crate. The crates' `fuzz_corpus`
//! tests include the same files (`#[path]`), so the committed corpora are replayed by
//! `cargo test` on the stable toolchain with exactly the checks the fuzzers run.

pub mod core_checks;
pub mod pipeline_checks;
pub mod replay;
pub mod server_checks;
