//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) through the same property
//! checks the fuzz targets run (`fuzz/src/server_checks.rs`), so that CI exercises every seed and
//! every regression input on the stable toolchain. See README.md, "Fuzzing".

use crate::{checks, replay};

fn corpus() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

#[test]
fn path_decode_corpus() {
    replay::replay(&corpus(), "path_decode", checks::check_path_decode);
}

#[test]
fn etag_corpus() {
    replay::replay(&corpus(), "etag", checks::check_etag);
}

#[test]
fn http_date_corpus() {
    replay::replay(&corpus(), "http_date", checks::check_http_date);
}

#[test]
fn range_corpus() {
    replay::replay(&corpus(), "range", checks::check_range);
}

#[test]
fn negotiate_corpus() {
    replay::replay(&corpus(), "negotiate", checks::check_negotiate);
}
