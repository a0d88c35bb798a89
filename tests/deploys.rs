//! Safe deploys, build side: kept generations, `clean`, `verify`, and builds killed at any
//! moment leaving the previous build whole.

use std::fs;
use std::io::Read;
use std::process::Stdio;
use std::time::Instant;

use crate::common::{assetc, snapshot_tree, Tree};

fn generations(t: &Tree) -> Vec<String> {
    let record: serde_json::Value =
        serde_json::from_str(&t.read(".assetc/generations.json")).unwrap();
    record["generations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect()
}

fn site(t: &Tree, version: u32) {
    t.file("css/site.css", format!("body {{ --v: {version} }}"))
        .file("js/app.js", format!("console.log({version});"))
        .file("img/logo.png", "logo")
        .file("index.html", "<link rel=stylesheet href=css/site.css><script src=js/app.js></script><img src=img/logo.png>");
}

#[test]
fn old_generations_keep_their_fingerprinted_files_until_cleaned() {
    let t = Tree::new();
    let mut css = Vec::new();
    for v in 1..=3 {
        site(&t, v);
        // `--keep-age 0`: only the count decides, whatever the clock says.
        t.build(&["--keep", "2", "--keep-age", "0"]).success();
        css.push(t.served("css/site.css"));
    }
    assert_eq!(
        generations(&t).len(),
        2,
        "builds apply the retention policy by default"
    );
    assert!(
        !t.output().join(&css[0]).exists(),
        "the third build dropped the first generation"
    );
    assert!(
        t.output().join(&css[1]).exists(),
        "the previous generation's files are still served"
    );
    assert!(t.output().join(&css[2]).exists());
    assert!(t
        .output()
        .join("img")
        .join(t.served("img/logo.png").rsplit('/').next().unwrap())
        .exists());

    // With the default age (1h) every recent build is kept.
    site(&t, 4);
    t.build(&[]).success();
    site(&t, 5);
    t.build(&[]).success();
    assert_eq!(generations(&t).len(), 4);

    let dry = assetc()
        .current_dir(t.root())
        .args([
            "clean",
            "--root",
            "build",
            "--keep",
            "1",
            "--age",
            "0s",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(dry.status.success());
    let dry_err = String::from_utf8_lossy(&dry.stderr).into_owned();
    assert!(dry_err.contains("would remove 3 generations"), "{dry_err}");
    assert!(
        t.output().join(&css[1]).exists(),
        "--dry-run removes nothing"
    );

    let before = generations(&t);
    let run = assetc()
        .current_dir(t.root())
        .args(["clean", "--root", "build", "--keep", "1", "--age", "0s"])
        .output()
        .unwrap();
    assert!(run.status.success());
    let err = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(err.contains(&format!("removed {}", css[1])), "{err}");
    assert_eq!(generations(&t), before[..1]);
    assert!(!t.output().join(&css[1]).exists());
    // Nothing the kept generation references is ever removed.
    let m = t.manifest();
    for entry in m["entries"].as_object().unwrap().values() {
        assert!(
            t.output().join(entry["path"].as_str().unwrap()).exists(),
            "{entry}"
        );
    }
    t.verify().success();
}

#[test]
fn verify_catches_a_flipped_byte_a_missing_file_and_an_extra_file() {
    let t = Tree::new();
    site(&t, 1);
    t.file("big.js", "x".repeat(5000));
    t.build(&[]).success();
    let verify = || t.verify().0;
    let ok = verify();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stderr).contains("all present and intact"));

    let css = t.output().join(t.served("css/site.css"));
    let mut bytes = fs::read(&css).unwrap();
    bytes[0] ^= 1;
    fs::write(&css, bytes).unwrap();
    let gz = t.output().join(format!("{}.gz", t.served("big.js")));
    assert!(
        gz.exists(),
        "a compressible file over 1 KiB has a gzip variant"
    );
    fs::remove_file(&gz).unwrap();
    fs::write(t.output().join("stray.txt"), "who put this here").unwrap();

    let out = verify();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains(&format!(
            "corrupted: `{}`: sha256",
            t.served("css/site.css")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("missing: `{}.gz`", t.served("big.js"))),
        "{err}"
    );
    assert!(err.contains("extra: `stray.txt`"), "{err}");
    let json = t.run(&["verify", "--root", "build", "--json"]).0;
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["missing"].as_array().unwrap().len(), 1);
}

/// A tree big enough that a build takes a while: many files, some compressible.
fn big_site(t: &Tree, version: u32) {
    for i in 0..400 {
        t.file(
            &format!("css/c{i}.css"),
            format!(".c{i} {{ --v: {version}; }}\n").repeat(40),
        );
        t.file(&format!("img/i{i}.png"), format!("png {i} {version}"));
    }
    let links: String = (0..400)
        .map(|i| format!("<link rel=stylesheet href=css/c{i}.css><img src=img/i{i}.png>\n"))
        .collect();
    t.file("index.html", links);
}

#[test]
fn a_build_killed_at_any_moment_leaves_the_previous_build_whole() {
    let t = Tree::new();
    big_site(&t, 1);
    let started = Instant::now();
    t.build(&["--codings", "gzip"]).success();
    let full = started.elapsed();
    let before = snapshot_tree(&t.output());
    big_site(&t, 2);
    // Kill points spread over the length of a whole build, first to last.
    let steps = 8;
    let mut killed = 0;
    for step in 0..steps {
        let delay = full.mul_f64(step as f64 / steps as f64);
        let mut child = assetc()
            .current_dir(t.root())
            .args([
                "build",
                "--input",
                "assets",
                "--output",
                "build",
                "--codings",
                "gzip",
                "--quiet",
            ])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let after = snapshot_tree(&t.output());
        // Killed after the swap (while removing the old tree, or on its way out): the new
        // build is then in place, whole.
        let swapped = !status.success() && after != before;
        if status.success() || swapped {
            // The build won the race: it must then be complete and consistent.
            t.verify().success();
            break;
        }
        killed += 1;
        assert!(
            after == before,
            "killed after {delay:?}: the previous build changed"
        );
        t.verify().success();
    }
    assert!(
        killed >= 2,
        "only {killed} builds were killed before finishing"
    );
    // The next build removes what the killed ones left and completes.
    t.build(&["--codings", "gzip"]).success();
    let leftovers: Vec<String> = fs::read_dir(t.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !leftovers.iter().any(|n| n.contains("staging")),
        "{leftovers:?}"
    );
    t.verify().success();
    let mut css = String::new();
    fs::File::open(t.output().join(t.served("css/c0.css")))
        .unwrap()
        .read_to_string(&mut css)
        .unwrap();
    assert!(css.contains("--v: 2"), "the new build is complete");
}
