//! What a user reads when something goes wrong: each message names the path at fault, gives
//! each cause once (the operating system's reason exactly once), and puts the hint on its
//! own `hint:` line after it.

use std::fs;
use std::process::Command;

use crate::common::{assetc, clear_env, Run, Tree};

#[test]
fn serve_of_a_missing_root_gives_the_os_reason_once_and_a_hint() {
    let t = Tree::new();
    let run = t.run(&["serve", "--root", "nowhere"]);
    run.failure(1);
    assert_eq!(
        run.stderr(),
        "error: cannot serve `nowhere`: cannot read the build root `nowhere`: \
         No such file or directory (os error 2)\n\
         hint: run `assetc build` first\n"
    );
}

#[test]
fn serve_of_a_bad_manifest_gives_the_parse_error_once() {
    let t = Tree::new();
    fs::create_dir(t.root().join("b")).unwrap();
    fs::write(t.root().join("b/assetc-manifest.json"), "{not json").unwrap();
    let run = t.run(&["serve", "--root", "b"]);
    run.failure(1);
    assert_eq!(
        run.stderr(),
        "error: cannot serve `b`: the manifest `b/assetc-manifest.json` is not valid: \
         not valid manifest JSON: key must be a string at line 1 column 2\n"
    );
}

#[test]
fn a_build_over_an_unreadable_previous_record_says_which_file_and_why_once() {
    let t = Tree::new();
    t.file("index.html", "<p>hi</p>");
    t.build(&[]).success();
    fs::write(
        t.output().join(".assetc/generations.json"),
        "{\"generations\": 7}",
    )
    .unwrap();
    let run = t.build(&["--quiet"]);
    run.failure(1);
    let err = run.stderr();
    assert_eq!(err.matches("invalid type").count(), 1, "{err}");
    assert_eq!(err.matches("hint:").count(), 1, "{err}");
    assert!(
        err.starts_with(
            "error: build of `assets` failed; `build` is unchanged: the previous build's record `"
        ) && err.ends_with(
            "generations.json` cannot be read: invalid type: integer `7`, expected a sequence at line 1 column 17\n\
             hint: remove the output directory and build again\n"
        ),
        "{err}"
    );
}

#[test]
fn a_descriptor_limit_too_low_to_serve_is_refused_with_the_fix_not_a_panic() {
    let t = Tree::new();
    t.file("index.html", "<p>hi</p>");
    t.build(&["--quiet"]).success();
    let mut cmd = Command::new("bash");
    clear_env(&mut cmd);
    let output = cmd
        .current_dir(t.root())
        .arg("-c")
        .arg("ulimit -n 24 && exec \"$0\" serve --root build --bind 127.0.0.1:0 --no-watch")
        .arg(env!("CARGO_BIN_EXE_assetc"))
        .output()
        .unwrap();
    let run = Run(output);
    run.failure(1);
    assert_eq!(
        run.stderr(),
        "error: the open-file limit (24) is too low to serve\n\
         hint: raise it to at least 64 with `ulimit -n`\n"
    );
}

#[test]
fn an_invalid_duration_is_refused_in_the_one_syntax_of_every_flag() {
    let t = Tree::new();
    t.file("index.html", "<p>hi</p>");
    for args in [
        &["build", "--keep-age", "1y"][..],
        &["clean", "--age", "1y"],
        &["serve", "--watch-interval", "1y"],
    ] {
        let run = Run(assetc().current_dir(t.root()).args(args).output().unwrap());
        run.failure(1);
        assert_eq!(
            run.stderr(),
            "error: invalid duration `1y`\n\
             hint: write e.g. `250ms`, `90s`, `30m`, `1h`, `2d`\n",
            "{args:?}"
        );
    }
}
