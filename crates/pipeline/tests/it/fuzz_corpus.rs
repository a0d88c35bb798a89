//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) through the same property
//! checks the fuzz targets run (`fuzz/src/pipeline_checks.rs`), so that CI exercises every seed and
//! every regression input on the stable toolchain. See README.md, "Fuzzing".

use crate::{checks, replay};

fn corpus() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

#[test]
fn html_corpus() {
    replay::replay(&corpus(), "html", checks::check_html);
}

#[test]
fn rewrite_corpus() {
    replay::replay(&corpus(), "rewrite", checks::check_rewrite);
}

#[test]
fn css_corpus() {
    replay::replay(&corpus(), "css", checks::check_css);
}

#[test]
fn js_corpus() {
    replay::replay(&corpus(), "js", checks::check_js);
}

#[test]
fn json_corpus() {
    replay::replay(&corpus(), "json", checks::check_json);
}
