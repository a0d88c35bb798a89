//! Build faults: odd and hostile input trees and a full disk. Each case either builds
//! correctly or fails with a clear error naming the file, and the previous build stays whole.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::common::{assetc, snapshot_tree, Tree};

fn base(t: &Tree) {
    t.file("index.html", "<link rel=stylesheet href=a.css>")
        .file("a.css", "a{}");
}

/// Builds once, applies `damage`, builds again: the result must be `expect_ok`, and on
/// failure the error must mention `needle` and the first build must be intact.
fn rebuild_after(damage: impl FnOnce(&Tree), expect_ok: bool, needle: &str) -> Tree {
    let t = Tree::new();
    base(&t);
    t.build(&[]).success();
    let before = snapshot_tree(&t.output());
    damage(&t);
    let run = t.build(&[]);
    let err = run.stderr();
    if expect_ok {
        run.success();
    } else {
        run.failure(1);
        assert!(err.contains(needle), "expected `{needle}` in:\n{err}");
        assert_eq!(
            snapshot_tree(&t.output()),
            before,
            "the previous build changed"
        );
    }
    assert!(err.contains(needle), "expected `{needle}` in:\n{err}");
    t
}

#[test]
fn an_output_path_that_is_a_file_is_refused_and_kept() {
    let t = Tree::new();
    base(&t);
    fs::write(t.root().join("build"), "not a directory").unwrap();
    let run = t.build(&[]);
    run.failure(1);
    assert!(run.stderr().contains("build"), "{}", run.stderr());
    assert_eq!(
        fs::read_to_string(t.root().join("build")).unwrap(),
        "not a directory"
    );
}

#[test]
fn an_input_that_is_a_file_is_refused() {
    let t = Tree::new();
    base(&t);
    let run = assetc()
        .current_dir(t.root())
        .args(["build", "--input", "assets/a.css", "--output", "build"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("a.css` is not a directory"));
}

#[test]
fn symlink_loops_are_reported_and_skipped() {
    rebuild_after(
        |t| {
            std::os::unix::fs::symlink(".", t.input().join("loop")).unwrap();
            std::os::unix::fs::symlink("self", t.input().join("self")).unwrap();
        },
        true,
        "symlink not followed",
    );
}

#[test]
fn names_that_are_not_utf8_fail_with_the_file_named() {
    rebuild_after(
        |t| fs::write(t.input().join(OsStr::from_bytes(b"bad-\xff.css")), "x").unwrap(),
        false,
        "bad-\u{fffd}.css` is not valid UTF-8",
    );
}

#[test]
fn empty_files_build() {
    let t = rebuild_after(
        |t| {
            t.file("empty.css", "").file("empty.html", "");
        },
        true,
        "built 4 files",
    );
    let m = t.manifest();
    assert_eq!(m["entries"]["empty.css"]["size"], 0);
    assert_eq!(
        m["entries"]["empty.css"]["sha256"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn a_full_disk_fails_the_build_with_the_file_named_and_keeps_the_previous_one() {
    let t = Tree::new();
    base(&t);
    t.build(&[]).success();
    let before = snapshot_tree(&t.output());
    // 200 KiB of incompressible-enough data against a 64 KiB file-size limit.
    let big: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(t.input().join("big.bin"), big).unwrap();
    let out = std::process::Command::new("bash")
        .current_dir(t.root())
        .arg("-c")
        .arg(format!(
            "ulimit -f 64; exec {} build --input assets --output build",
            env!("CARGO_BIN_EXE_assetc")
        ))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the build must fail with an error, not die from SIGXFSZ: {err}"
    );
    assert!(
        err.contains("big.") && err.contains("File too large"),
        "{err}"
    );
    assert_eq!(snapshot_tree(&t.output()), before);
    let names: Vec<String> = fs::read_dir(t.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("staging")), "{names:?}");
}

#[test]
fn a_file_that_changes_during_the_build_is_built_consistently_or_refused() {
    let t = Tree::new();
    base(&t);
    t.build(&[]).success();
    let before = snapshot_tree(&t.output());
    let path = t.input().join("busy.bin");
    fs::write(&path, vec![b'a'; 4 << 20]).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, path) = (stop.clone(), path.clone());
        std::thread::spawn(move || {
            let mut round = 0u8;
            // Bounded: at most 20,000 rewrites, and it stops as soon as the build returns.
            for _ in 0..20_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                round = round.wrapping_add(1);
                let _ = fs::write(&path, vec![b'a' + round % 26; 4 << 20]);
            }
        })
    };
    let run = t.build(&["--codings", "none"]);
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    if run.code() == 0 {
        t.verify().success();
    } else {
        assert!(
            run.stderr()
                .contains("busy.bin` changed while it was being built"),
            "{}",
            run.stderr()
        );
        assert_eq!(snapshot_tree(&t.output()), before);
    }
}

#[test]
fn a_file_over_2_gib_builds_with_modest_memory() {
    let t = Tree::new();
    base(&t);
    let big = t.input().join("video.mp4");
    // Sparse: no disk blocks until written, so the test costs time, not space in the input.
    fs::File::create(&big)
        .unwrap()
        .set_len((2 << 30) + 12345)
        .unwrap();
    let out = std::process::Command::new("bash")
        .current_dir(t.root())
        .arg("-c")
        .arg(format!(
            "/usr/bin/time -f '%M' {} build --input assets --output build --quiet 2>&1 >/dev/null | tail -n1",
            env!("CARGO_BIN_EXE_assetc")
        ))
        .output()
        .unwrap();
    let peak_kib: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| {
            panic!(
                "no peak memory figure: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
    let entry = t.manifest()["entries"]["video.mp4"].clone();
    assert_eq!(entry["size"], (2u64 << 30) + 12345);
    assert_eq!(
        fs::metadata(t.output().join(entry["path"].as_str().unwrap()))
            .unwrap()
            .len(),
        (2 << 30) + 12345
    );
    assert!(
        peak_kib < 200 * 1024,
        "peak memory {peak_kib} KiB for a 2 GiB file"
    );
}

#[test]
fn a_tree_of_100_000_files_builds() {
    let t = Tree::new();
    for d in 0..100 {
        let dir = t.input().join(format!("d{d}"));
        fs::create_dir_all(&dir).unwrap();
        for i in 0..1000 {
            fs::write(dir.join(format!("f{i}.txt")), format!("file {d} {i}\n")).unwrap();
        }
    }
    t.file("index.html", "<link rel=stylesheet href=d7/f7.txt>");
    let run = t.build(&["--codings", "none"]);
    run.success();
    assert!(
        run.stderr().contains("built 100001 files"),
        "{}",
        run.stderr()
    );
    let m = t.manifest();
    let entries = m["entries"].as_object().unwrap();
    assert_eq!(entries.len(), 100_001);
    for logical in ["d0/f0.txt", "d57/f311.txt", "d99/f999.txt"] {
        let served = entries[logical]["path"].as_str().unwrap();
        let (d, f) = logical.split_once('/').unwrap();
        let (dir, file) = (
            d.trim_start_matches('d'),
            f.trim_start_matches('f').trim_end_matches(".txt"),
        );
        assert_eq!(t.read(served), format!("file {dir} {file}\n"));
    }
    assert!(t.read("index.html").contains(
        entries["d7/f7.txt"]["path"]
            .as_str()
            .unwrap()
            .trim_start_matches("d7/")
    ));
}
