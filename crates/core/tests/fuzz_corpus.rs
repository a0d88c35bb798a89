//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) through the same property
//! checks the fuzz targets run (`fuzz/src/core_checks.rs`), so that CI exercises every seed and
//! every regression input on the stable toolchain. See README.md, "Fuzzing".

#[path = "../../../fuzz/src/core_checks.rs"]
mod checks;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

fn corpus() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

#[test]
fn url_ref_corpus() {
    replay::replay(&corpus(), "url_ref", checks::check_url_ref);
}

#[test]
fn logical_path_corpus() {
    replay::replay(&corpus(), "logical_path", checks::check_logical_path);
}
