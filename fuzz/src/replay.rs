//! Replays a committed corpus (`fuzz/corpus/<target>/`) through the check its fuzz target
//! runs: the crates' `fuzz_corpus` tests call this on the stable toolchain.

use std::path::Path;

/// Runs `check` on every file under `corpus/<target>` and fails naming every input that
/// fails, or when the corpus is missing or empty (a replay that checks nothing must not pass).
pub fn replay(corpus: &Path, target: &str, check: fn(&[u8])) {
    let dir = corpus.join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the corpus `{}`: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus `{}` is empty", dir.display());
    let mut failed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).expect("a readable corpus file");
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} inputs in `{}` fail `{target}`'s properties:\n{}",
        failed.len(),
        files.len(),
        dir.display(),
        failed.join("\n")
    );
}
