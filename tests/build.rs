//! `assetc build` end to end: naming, HTML rewriting, the manifest, warnings, atomicity.

use std::fs;

use crate::common::{assert_snapshot, assetc, served_tree, snapshot_tree, Run, Tree};

/// A small site with a page in a nested directory, shared CSS and JS, images with srcset.
fn site() -> Tree {
    let t = Tree::new();
    t.file(
        "index.html",
        r#"<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="css/site.css">
<link rel="icon" href="/favicon.ico">
</head><body>
<img src="img/a.png" srcset="img/a.png 1x, img/a@2x.png 2x" alt="a">
<a href="docs/guide/">guide</a>
<script src="js/app.js"></script>
</body></html>
"#,
    )
    .file(
        "docs/guide/index.html",
        r#"<!doctype html><link rel="stylesheet" href="../../css/site.css"><script src="/js/app.js"></script><a href="../../index.html">home</a>
"#,
    )
    .file("css/site.css", "body { color: red }\n")
    .file("js/app.js", "console.log('hi');\n")
    .file("img/a.png", b"\x89PNG fake a")
    .file("img/a@2x.png", b"\x89PNG fake a2x")
    .file("favicon.ico", b"ico")
    .file("robots.txt", "User-agent: *\n")
    .file(".env", "SECRET=1")
    .file(".well-known/security.txt", "Contact: mailto:security@example.com\n");
    t
}

#[test]
fn output_tree_and_manifest_match_the_snapshots() {
    let t = site();
    t.build(&[]).success();
    let listing: String = served_tree(&t.output())
        .iter()
        .map(|(path, bytes)| format!("{path} {}\n", bytes.len()))
        .collect();
    assert_snapshot("site-tree.txt", &listing);
    assert_snapshot("site-manifest.json", &t.read("assetc-manifest.json"));
    assert_snapshot("site-index.html", &t.read("index.html"));
    assert_snapshot("site-guide.html", &t.read("docs/guide/index.html"));
}

#[test]
fn names_put_the_fingerprint_before_the_last_extension() {
    let t = Tree::new();
    t.file("vendor/jquery.min.js", "jq")
        .file("LICENSE", "mit")
        .file("img/social card.png", "png");
    t.build(&[]).success();
    let fp = "[A-Za-z0-9_-]{12}";
    let check = |logical: &str, pattern: &str| {
        let served = t.served(logical);
        let re = pattern.replace("FP", fp);
        assert!(
            regex_lite_match(&re, &served),
            "`{logical}` served as `{served}`, expected `{pattern}`"
        );
        assert!(t.output().join(&served).is_file());
    };
    check("vendor/jquery.min.js", "vendor/jquery.min.FP.js");
    check("LICENSE", "LICENSE.FP");
    check("img/social card.png", "img/social card.FP.png");
}

/// Matches `pattern`, where `[A-Za-z0-9_-]{12}` is the only special form, against `text`.
fn regex_lite_match(pattern: &str, text: &str) -> bool {
    let class = "[A-Za-z0-9_-]{12}";
    let Some((before, after)) = pattern.split_once(class) else {
        return pattern == text;
    };
    text.len() == before.len() + 12 + after.len()
        && text.starts_with(before)
        && text.ends_with(after)
        && text[before.len()..before.len() + 12]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[test]
fn every_kind_of_html_reference_is_rewritten() {
    let t = Tree::new();
    for f in [
        "a.css", "b.js", "c.png", "d.png", "e.png", "f.png", "g.mp4", "h.jpg", "i.svg", "j.png",
        "k.png", "l.pdf", "m.vtt", "n.svg",
    ] {
        t.file(f, f);
    }
    t.file(
        "page.html",
        r#"<link rel="stylesheet" href="a.css">
<script src="b.js"></script>
<img src="c.png" srcset="d.png 1x, e.png 2x">
<link rel="preload" as="image" imagesrcset="f.png 480w, c.png 800w" imagesizes="50vw">
<video poster="h.jpg"><source src="g.mp4" type="video/mp4"><track src="m.vtt"></video>
<object data="i.svg"></object>
<meta property="og:image" content="/j.png">
<meta name="twitter:image" content="k.png">
<a href="l.pdf">download</a>
<svg><use href="n.svg#icon"></use></svg>
"#,
    );
    t.build(&["--strict"]).success();
    let page = t.read("page.html");
    for f in [
        "a.css", "b.js", "c.png", "d.png", "e.png", "f.png", "g.mp4", "h.jpg", "i.svg", "j.png",
        "k.png", "l.pdf", "m.vtt", "n.svg",
    ] {
        let served = t.served(f);
        assert_ne!(served, f);
        assert!(
            page.contains(&served),
            "`{f}` not rewritten to `{served}`:\n{page}"
        );
    }
    assert!(
        page.contains(&format!("content=\"/{}\"", t.served("j.png"))),
        "root-relative stays root-relative"
    );
    assert!(
        page.contains(&format!("{}#icon", t.served("n.svg"))),
        "fragment kept"
    );
    assert!(
        page.contains(" 2x\"") && page.contains(" 480w,"),
        "descriptors kept:\n{page}"
    );
}

#[test]
fn untouchable_references_and_everything_around_them_stay_byte_identical() {
    let t = Tree::new();
    let page = r##"<!DOCTYPE html>
<!-- <img src="x.png"> in a comment -->
<html><HEAD><meta charset=utf-8>
<link rel=stylesheet href="https://cdn.example.com/a.css">
<link rel=stylesheet href="//cdn.example.com/b.css">
<script src="http://example.com/x.js" ></script>
<img src="data:image/png;base64,iVBORw0KGgo=" alt='x'>
<img src="" srcset="">
<a href="#top">top</a> <a href="?page=2">next</a>
<a href="mailto:a@example.com">mail</a> <a href="javascript:void(0)">js</a> <a href="tel:+1">tel</a>
<meta property="og:image" content="https://example.com/og.png">
<meta name="description" content="x.png is not a URL here">
<p title="x.png">x.png as text &amp; entities &copy;</p>
<textarea><img src="x.png"></textarea>
<script>document.write('<img src="x.png">')</script>
</HEAD></html>
"##;
    t.file("page.html", page).file("x.png", "x");
    t.build(&[]).success();
    assert_eq!(t.read("page.html"), page);
}

#[test]
fn relative_and_root_relative_references_keep_their_form_with_query_and_fragment() {
    let t = Tree::new();
    t.file("css/a.css", "a").file("img/social card.png", "p").file("img/café.png", "c").file(
        "blog/2024/post.html",
        r#"<link href="../../css/a.css?v=1#x" rel=stylesheet><link href="/css/a.css" rel=stylesheet><link href="./../../css/a.css" rel=stylesheet>
<img src="/img/social%20card.png"><img src="../../img/caf%C3%A9.png">
"#,
    );
    t.build(&["--strict"]).success();
    let css = t.served("css/a.css");
    let css_name = css.rsplit('/').next().unwrap();
    let png = t.served("img/social card.png");
    let png_name = png.rsplit('/').next().unwrap().replace(' ', "%20");
    let cafe = t.served("img/café.png");
    let cafe_name = cafe.rsplit('/').next().unwrap().replace('é', "%C3%A9");
    let html = t.read("blog/2024/post.html");
    assert!(
        html.contains(&format!("href=\"../../css/{css_name}?v=1#x\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"/css/{css_name}\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"./../../css/{css_name}\"")),
        "{html}"
    );
    assert!(html.contains(&format!("src=\"/img/{png_name}\"")), "{html}");
    assert!(
        html.contains(&format!("src=\"../../img/{cafe_name}\"")),
        "{html}"
    );
}

#[test]
fn base_url_puts_rewritten_references_under_a_prefix_or_origin() {
    for (base, prefix) in [
        ("/static", "/static/"),
        (
            "https://cdn.example.com/assets/",
            "https://cdn.example.com/assets/",
        ),
    ] {
        let t = Tree::new();
        t.file("css/a.css", "a")
            .file(
                "docs/p.html",
                r#"<link rel=stylesheet href="../css/a.css?v=2"><a href="../index.html">home</a>"#,
            )
            .file("index.html", "home");
        t.build(&["--base-url", base]).success();
        let html = t.read("docs/p.html");
        assert!(
            html.contains(&format!("href=\"{prefix}{}?v=2\"", t.served("css/a.css"))),
            "{base}: {html}"
        );
        assert!(
            html.contains("href=\"../index.html\""),
            "links between pages keep their target: {html}"
        );
        assert_eq!(t.manifest()["base_url"], prefix);
    }
    let t = site();
    let run = t.build(&["--base-url", "cdn.example.com"]);
    run.failure(1);
    assert!(
        run.stderr().contains("invalid base URL `cdn.example.com`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn root_relative_references_under_a_path_base_url_resolve_and_ones_outside_it_warn() {
    // A Vite build with `--base /sub/path/` (and MkDocs' 404 page with a `site_url` path):
    // the page names the entry chunk under the base, the lazy chunk imports it relatively.
    // Both must name the one new file, or the app boots twice.
    let t = Tree::new();
    t.file(
        "index.html",
        r#"<link rel="stylesheet" href="/sub/path/assets/index-BBBBBBBB.css">
<script type="module" src="/sub/path/assets/index-AAAAAAAA.js"></script>
<a href="/sub/path/">home</a> <a href="/sub/path/guide/">guide</a> <link rel="icon" href="/favicon.svg"> <a href="/">the host's home</a>"#,
    )
    .file("guide/index.html", "guide")
    .file("favicon.svg", "<svg/>")
    .file("assets/index-BBBBBBBB.css", "a{}")
    .file(
        "assets/index-AAAAAAAA.js",
        r#"import("./lazy-CCCCCCCC.js"); export const x = 1;"#,
    )
    .file(
        "assets/lazy-CCCCCCCC.js",
        r#"import { x } from "./index-AAAAAAAA.js";"#,
    );
    let run = t.build(&["--base-url", "/sub/path/"]);
    run.success();
    let html = t.read("index.html");
    let entry = t.served("assets/index-AAAAAAAA.js");
    let lazy = t.served("assets/lazy-CCCCCCCC.js");
    assert_ne!(entry, "assets/index-AAAAAAAA.js");
    assert!(
        html.contains(&format!("src=\"/sub/path/{entry}\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "href=\"/sub/path/{}\"",
            t.served("assets/index-BBBBBBBB.css")
        )),
        "{html}"
    );
    assert!(t
        .read(&lazy)
        .contains(&format!("from \"/sub/path/{entry}\"")));
    assert!(html.contains(r#"<a href="/sub/path/">home</a> <a href="/sub/path/guide/">guide</a>"#));
    // Outside the base: a URL of the host, not of this build, left as written and, for a
    // subresource, reported; a link out of the build is as external as `https://…`.
    assert!(html.contains(r#"href="/favicon.svg""#), "{html}");
    assert!(
        html.contains(r#"<a href="/">the host's home</a>"#),
        "{html}"
    );
    let stderr = run.stderr();
    assert!(
        stderr.contains(
            "index.html:3:91: reference `/favicon.svg` is outside the base URL `/sub/path/`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains(" 1 warning "), "{stderr}");
    // --ignore-reference matches its path from the host root.
    let run = t.build(&[
        "--base-url",
        "/sub/path/",
        "--ignore-reference",
        "/favicon.svg",
        "--strict",
    ]);
    run.success();
    // Without the base URL, the same references name nothing: the base is what resolves them.
    let run = t.build(&["--strict"]);
    run.failure(1);
    assert!(
        run.stderr().contains("reference `/sub/path/assets/index-AAAAAAAA.js` resolves to `sub/path/assets/index-AAAAAAAA.js`, which is not in the input"),
        "{}",
        run.stderr()
    );
}

#[test]
fn broken_references_warn_with_file_line_column_and_strict_fails() {
    let t = Tree::new();
    t.file("a.css", "a").file(
        "docs/page.html",
        "<p>\n  <img src=\"missing.png\">\n<link href=\"/a.css\" rel=stylesheet><script src=\"../../../etc/passwd\"></script><a href=\"nowhere.html\">x</a>",
    );
    let run = t.build(&[]);
    run.success();
    let err = run.stderr();
    assert!(
        err.contains("warning: docs/page.html:2:13: reference `missing.png` resolves to `docs/missing.png`, which is not in the input"),
        "{err}"
    );
    assert!(
        err.contains(
            "warning: docs/page.html:3:49: reference `../../../etc/passwd` leaves the input root"
        ),
        "{err}"
    );
    assert!(
        err.contains("reference `nowhere.html` resolves to `docs/nowhere.html`"),
        "{err}"
    );
    assert!(err.contains("3 warnings"), "{err}");
    // The missing reference is left exactly as written, never rewritten to a wrong target.
    assert!(t.read("docs/page.html").contains("src=\"missing.png\""));

    let before = snapshot_tree(&t.output());
    t.file("a.css", "changed");
    let run = t.build(&["--strict"]);
    run.failure(1);
    assert!(
        run.stderr()
            .contains("error: build failed: 3 warnings with `--strict`"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        snapshot_tree(&t.output()),
        before,
        "a failed build leaves the previous one as it was"
    );
    assert_no_staging_left(&t);
}

#[test]
fn clean_urls_and_directory_links_resolve_without_warnings() {
    let t = Tree::new();
    t.file("about.html", "a").file("docs/index.html", "d").file(
        "index.html",
        r#"<a href="/about">a</a><a href="docs/">d</a><a href="docs">d</a><a href="/">home</a><iframe src="about"></iframe>"#,
    );
    let run = t.build(&["--strict"]);
    run.success();
    assert!(!run.stderr().contains("warning:"), "{}", run.stderr());
}

#[test]
fn two_builds_of_one_input_are_byte_identical() {
    let t = site();
    t.build_into("one", &[]).success();
    t.build_into("two", &[]).success();
    // `.assetc/` records when each build ran; everything served must be identical.
    let (one, two) = (
        served_tree(&t.root().join("one")),
        served_tree(&t.root().join("two")),
    );
    let names =
        |tree: &[(String, Vec<u8>)]| tree.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&one), names(&two));
    for ((path, a), (_, b)) in one.iter().zip(&two) {
        assert!(a == b, "`{path}` differs between two builds of one input");
    }
}

#[test]
fn last_modified_is_carried_over_for_unchanged_bytes_and_moves_forward_for_new_bytes() {
    let t = site();
    t.build(&[]).success();
    let first = t.manifest();
    let run = assetc()
        .current_dir(t.root())
        .args(["build", "--input", "assets", "--output", "build"])
        .env("SOURCE_DATE_EPOCH", "1700000500")
        .output()
        .unwrap();
    assert!(run.status.success());
    let unchanged = t.manifest();
    assert_eq!(first, unchanged, "nothing changed, so nothing moved");

    t.file("css/site.css", "body { color: blue }\n");
    // An earlier clock than the previous Last-Modified must still move it forward.
    let run = assetc()
        .current_dir(t.root())
        .args(["build", "--input", "assets", "--output", "build"])
        .env("SOURCE_DATE_EPOCH", "1600000000")
        .output()
        .unwrap();
    assert!(run.status.success());
    let second = t.manifest();
    let lm = |m: &serde_json::Value, k: &str| m["entries"][k]["last_modified"].as_i64().unwrap();
    assert_eq!(
        lm(&second, "img/a.png"),
        1_700_000_000,
        "unchanged file keeps its date"
    );
    assert_eq!(lm(&second, "js/app.js"), 1_700_000_000);
    assert_eq!(
        lm(&second, "css/site.css"),
        1_700_000_001,
        "changed file: never earlier than previous + 1s"
    );
    assert_eq!(
        lm(&second, "index.html"),
        1_700_000_001,
        "the page that loads the changed CSS changed too"
    );
    assert_ne!(
        first["entries"]["index.html"]["etag"],
        second["entries"]["index.html"]["etag"]
    );
    assert_eq!(
        first["entries"]["robots.txt"],
        second["entries"]["robots.txt"]
    );
}

#[test]
fn an_unreadable_input_file_fails_the_build_and_keeps_the_previous_one() {
    let t = site();
    t.build(&[]).success();
    let before = snapshot_tree(&t.output());
    let fifo = t.input().join("img/pipe.png");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    t.file("css/site.css", "body { color: green }\n");
    let run = t.build(&[]);
    run.failure(1);
    let err = run.stderr();
    assert!(err.contains("pipe.png` is not a regular file"), "{err}");
    assert!(err.contains("is unchanged"), "{err}");
    assert_eq!(snapshot_tree(&t.output()), before);
    assert_no_staging_left(&t);

    // A directory where the previous build had a file is fine, and a file that cannot be
    // opened as one (a directory named like a file) is too: only regular files are read.
    fs::remove_file(&fifo).unwrap();
    t.build(&[]).success();
}

fn assert_no_staging_left(t: &Tree) {
    let names: Vec<String> = fs::read_dir(t.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains("staging")),
        "staging left behind: {names:?}"
    );
}

#[test]
fn output_inside_the_input_and_input_inside_the_output_are_refused() {
    let t = site();
    let run = t.build_into("assets/build", &[]);
    run.failure(1);
    assert!(
        run.stderr().contains("is inside the input"),
        "{}",
        run.stderr()
    );
    assert!(!t.input().join("build").exists());

    let run = assetc()
        .current_dir(t.root())
        .args(["build", "--input", "assets", "--output", "."])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("is inside the output"));
}

#[test]
fn an_existing_directory_that_is_not_a_build_is_never_replaced() {
    let t = site();
    fs::create_dir_all(t.root().join("precious")).unwrap();
    fs::write(t.root().join("precious/notes.txt"), "keep me").unwrap();
    let run = t.build_into("precious", &[]);
    run.failure(1);
    assert!(
        run.stderr().contains("is not an assetc build"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        fs::read_to_string(t.root().join("precious/notes.txt")).unwrap(),
        "keep me"
    );
    // Refused before any work: a tree whose build would fail later (`--strict`, a broken
    // reference) is told about the output first.
    t.file("css/broken.css", "a { background: url(missing.png) }\n");
    let run = t.build_into("precious", &["--strict"]);
    run.failure(1);
    assert!(
        run.stderr().contains("is not an assetc build") && !run.stderr().contains("missing.png"),
        "{}",
        run.stderr()
    );
}

#[test]
fn symlinks_out_of_the_root_are_not_followed_and_inside_ones_are() {
    let t = site();
    let outside = t.root().join("secret");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("key.txt"), "private").unwrap();
    std::os::unix::fs::symlink(&outside, t.input().join("leak")).unwrap();
    std::os::unix::fs::symlink(outside.join("key.txt"), t.input().join("key.txt")).unwrap();
    std::os::unix::fs::symlink(t.input().join("css"), t.input().join("styles")).unwrap();
    let run = t.build(&[]);
    run.success();
    let err = run.stderr();
    assert!(
        err.contains("warning: leak: symlink to `")
            && err.contains("outside the input, not followed"),
        "{err}"
    );
    assert!(err.contains("warning: key.txt: symlink to `"), "{err}");
    let entries = &t.manifest()["entries"];
    assert!(entries.get("leak/key.txt").is_none() && entries.get("key.txt").is_none());
    assert!(
        entries.get("styles/site.css").is_some(),
        "a symlink inside the root is followed"
    );
    for (path, bytes) in snapshot_tree(&t.output()) {
        assert_ne!(
            bytes, b"private",
            "`{path}` holds a file from outside the root"
        );
    }
    assert!(
        t.build(&["--strict"]).code() == 1,
        "--strict fails on any warning"
    );
}

#[test]
fn dotfiles_are_skipped_except_well_known_which_keeps_its_path() {
    let t = site();
    t.build(&[]).success();
    let entries = t.manifest()["entries"].clone();
    assert!(entries.get(".env").is_none());
    assert_eq!(
        entries[".well-known/security.txt"]["path"],
        ".well-known/security.txt"
    );
    assert_eq!(entries[".well-known/security.txt"]["immutable"], false);
    assert!(!t.output().join(".env").exists());
}

#[test]
fn a_source_file_named_like_the_manifest_is_refused() {
    let t = site();
    t.file("assetc-manifest.json", "{}");
    let run = t.build(&[]);
    run.failure(1);
    assert!(
        run.stderr()
            .contains("assetc-manifest.json` has the name of the manifest"),
        "{}",
        run.stderr()
    );
    // In a subdirectory it is an ordinary asset.
    t.remove("assetc-manifest.json")
        .file("data/assetc-manifest.json", "{}");
    t.build(&[]).success();
}

#[test]
fn excludes_and_entry_points_come_from_config_and_flags() {
    let t = site();
    t.file("scss/site.scss", "$x: 1;")
        .file("node_modules/pkg/index.js", "x")
        .file("embed/widget.js", "w");
    fs::write(
        t.root().join("assetc.toml"),
        "[build]\nexclude = [\"node_modules\"]\nentry_points = [\"/embed/*.js\"]\n",
    )
    .unwrap();
    t.build(&["--exclude", "*.scss"]).success();
    let entries = t.manifest()["entries"].clone();
    assert!(entries.get("scss/site.scss").is_none());
    assert!(entries.get("node_modules/pkg/index.js").is_none());
    assert_eq!(entries["embed/widget.js"]["path"], "embed/widget.js");

    fs::write(t.root().join("assetc.toml"), "[build]\nexclud = [\"x\"]\n").unwrap();
    let run = t.build(&[]);
    run.failure(1);
    assert!(
        run.stderr()
            .contains("invalid configuration in `assetc.toml`")
            && run.stderr().contains("unknown field `exclud`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn manifest_entries_carry_validators_types_and_references() {
    let t = site();
    t.build(&[]).success();
    let m = t.manifest();
    assert_eq!(m["version"], 1);
    let css = &m["entries"]["css/site.css"];
    assert_eq!(css["content_type"], "text/css; charset=utf-8");
    assert_eq!(css["immutable"], true);
    let bytes = fs::read(t.output().join(css["path"].as_str().unwrap())).unwrap();
    assert_eq!(css["size"], bytes.len());
    let etag = css["etag"].as_str().unwrap();
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 20);
    assert_eq!(
        m["entries"]["js/app.js"]["content_type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        m["entries"]["index.html"]["content_type"],
        "text/html; charset=utf-8"
    );
    assert_eq!(m["entries"]["index.html"]["immutable"], false);
    let refs: Vec<&str> = m["entries"]["index.html"]["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        [
            "css/site.css",
            "docs/guide/index.html",
            "favicon.ico",
            "img/a.png",
            "img/a@2x.png",
            "js/app.js"
        ]
    );
}

#[test]
fn a_rebuild_that_changes_nothing_leaves_the_output_untouched() {
    let t = site();
    t.build(&[]).success();
    let inode =
        |p: &str| std::os::unix::fs::MetadataExt::ino(&fs::metadata(t.output().join(p)).unwrap());
    let before = (inode(""), inode("index.html"));
    let run = t.build(&[]);
    run.success();
    assert!(run.stderr().contains("(unchanged)"), "{}", run.stderr());
    assert_eq!((inode(""), inode("index.html")), before);
}

#[test]
fn command_line_conventions() {
    let out = assetc().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("build"));
    let out = assetc().args(["build", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--base-url"));
    let out = assetc().args(["build", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");

    let t = site();
    let run = t.build(&["--quiet"]);
    run.success();
    assert_eq!(run.stderr(), "");
    let run = t.build(&["--json", "--quiet"]);
    run.success();
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(report["report"]["files"], 9);
    let run = assetc()
        .current_dir(t.root())
        .args(["build", "--input", "nope"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("error: build of `nope` failed; `build` is unchanged: input directory `nope` does not exist"));
}

#[test]
fn a_second_build_or_a_clean_of_the_same_output_is_refused_while_one_runs() {
    // Hold the lock a build takes (an exclusive flock on `.build.assetc-lock` beside it).
    let t = site();
    t.build(&[]).success();
    let mut held = std::process::Command::new("flock")
        .args(["--exclusive", "--nonblock", "--close"])
        .arg(t.root().join(".build.assetc-lock"))
        .args(["sh", "-c", "echo locked; sleep 30"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(held.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    t.file("css/site.css", "body { color: red }");
    let build = t.build(&[]);
    let clean = t.run(&["clean", "--root", "build"]);
    // Another output beside it is not locked by this one.
    let dist = t.build_into("dist", &[]);
    let _ = held.kill();
    let _ = held.wait();
    build.failure(1);
    let busy = format!(
        "another assetc build or clean of `{}` is running\nhint: wait for it to finish\n",
        t.root().join("build").canonicalize().unwrap().display()
    );
    assert!(build.stderr().contains(&busy), "{}", build.stderr());
    clean.failure(1);
    assert!(
        clean
            .stderr()
            .contains("another assetc build or clean of `"),
        "{}",
        clean.stderr()
    );
    dist.success();
    t.build(&[]).success();
}

#[test]
fn a_rebuild_that_changes_nothing_still_removes_what_a_killed_build_left() {
    let t = site();
    t.build(&[]).success();
    let leftover = t.root().join(".build.assetc-staging-999999");
    fs::create_dir_all(leftover.join("css")).unwrap();
    let run = t.build(&[]);
    run.success();
    assert!(run.stderr().contains("(unchanged)"), "{}", run.stderr());
    assert!(
        !leftover.exists(),
        "the killed build's staging directory is still there"
    );
}

#[test]
fn strings_naming_renamed_files_are_notes_that_strict_does_not_fail_on() {
    // Vite's preload list and an asset URL it inlined: no rewriter can see them.
    let t = Tree::new();
    t.file(
        "index.html",
        r#"<script type="module" src="/assets/index-AAAAAAAA.js"></script>"#,
    )
    .file(
        "assets/index-AAAAAAAA.js",
        "const __vite__mapDeps=(i,m=__vite__mapDeps,d=(m.f||(m.f=[\"assets/About-BBBBBBBB.js\"])))=>i.map(i=>d[i]);\nconst logo=`/assets/logo-DDDDDDDD.svg`;",
    )
    .file("assets/About-BBBBBBBB.js", "export default 1;")
    .file("assets/logo-DDDDDDDD.svg", "<svg/>");
    let run = t.build(&["--strict", "--json"]);
    run.success();
    let stderr = run.stderr();
    let about = t.served("assets/About-BBBBBBBB.js");
    assert!(
        stderr.contains(&format!(
            "note: assets/index-AAAAAAAA.js:1:59: the string `assets/About-BBBBBBBB.js` names `assets/About-BBBBBBBB.js`, served as `{about}`: code fetching it by this name gets a 404 from a static host (keep its name with `--already-hashed` or `--entry-point`, or add `--logical-paths link`)"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "note: assets/index-AAAAAAAA.js:2:13: the string `/assets/logo-DDDDDDDD.svg`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("0 warnings, 2 notes in"), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let notes = json["report"]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0]["kind"], "runtime_url");
    assert_eq!(notes[0]["target"], "assets/About-BBBBBBBB.js");
    assert_eq!(notes[0]["line"], 1);
    // The fix the note gives: the names kept, nothing to note.
    let run = t.build(&["--strict", "--already-hashed", "assets/**"]);
    assert!(!run.stderr().contains("note:"), "{}", run.stderr());
}

#[test]
fn logical_paths_put_renamed_files_where_code_asks_for_them_too() {
    use std::os::unix::fs::MetadataExt;
    let t = Tree::new();
    let css = format!(
        "body {{ background: url(a.png) }}\n{}",
        "/* padding */\n".repeat(100)
    );
    t.file("css/app.css", &css).file("css/a.png", "png").file(
        "index.html",
        r#"<link rel="stylesheet" href="css/app.css">"#,
    );
    t.build(&["--logical-paths", "link", "--codings", "gzip"])
        .success();
    let out = t.output();
    let served = t.served("css/app.css");
    assert_ne!(served, "css/app.css");
    assert_eq!(
        t.read("css/app.css"),
        t.read(&served),
        "the logical path holds the served bytes"
    );
    let inode = |p: &str| fs::metadata(out.join(p)).unwrap().ino();
    assert_eq!(inode("css/app.css"), inode(&served), "a hard link");
    assert_eq!(
        inode("css/app.css.gz"),
        inode(&format!("{served}.gz")),
        "variants too"
    );
    assert_eq!(t.read("css/a.png"), "png");
    t.verify().success();
    // A rebuild with the same settings writes nothing; switching them is a new tree.
    assert!(t
        .build(&["--logical-paths", "link", "--codings", "gzip"])
        .stderr()
        .contains("(unchanged)"));
    let run = t.build(&["--codings", "gzip"]);
    assert!(!run.stderr().contains("(unchanged)"), "{}", run.stderr());
    assert!(!out.join("css/app.css").exists());
    assert!(!out.join("css/app.css.gz").exists());
    t.verify().success();
    // Files the output holds are reused across the switch: linked, not written again.
    assert_eq!(inode(&served), {
        t.build(&["--logical-paths", "copy", "--codings", "gzip"])
            .success();
        inode(&served)
    });
    // `[build] logical_paths`, and the flag winning over it.
    fs::write(
        t.root().join("assetc.toml"),
        "[build]\nlogical_paths = \"copy\"\n",
    )
    .unwrap();
    t.build(&["--codings", "gzip"]).success();
    assert_eq!(
        t.read("css/app.css"),
        css.replace("a.png", &t.served("css/a.png").replace("css/", ""))
    );
    assert_ne!(inode("css/app.css"), inode(&served), "a copy");
    t.verify().success();
    // verify expects them once the build wrote them.
    fs::remove_file(out.join("css/app.css")).unwrap();
    let run = t.verify();
    run.failure(1);
    assert!(run.stdout().contains("css/app.css") || run.stderr().contains("css/app.css"));
    t.build(&["--codings", "gzip", "--logical-paths", "none"])
        .success();
    assert!(!out.join("css/a.png").exists());
    t.verify().success();
}

#[test]
fn a_build_for_a_sub_path_is_served_under_it_with_serve_prefix() {
    use crate::common::http::Http;
    use crate::common::server::Server;
    let t = Tree::new();
    t.file(
        "index.html",
        r#"<link rel="stylesheet" href="/docs/css/a.css">"#,
    )
    .file("css/a.css", "a{}");
    t.build(&["--base-url", "/docs/", "--strict"]).success();
    let css = t.served("css/a.css");
    let server = Server::serve(t.root())
        .args(&["--root", "build", "--prefix", "/docs/"])
        .start();
    let page = server.get("/docs/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains(&format!("href=\"/docs/{css}\"")));
    assert_eq!(server.get(&format!("/docs/{css}")).status, 200);
    assert_eq!(
        server.get(&format!("/{css}")).status,
        404,
        "nothing outside the prefix"
    );
    assert_eq!(
        server.get("/docs").status,
        308,
        "the prefix itself redirects to its directory"
    );
}

/// The scan cache's lookups in a `--json` build report: (hits, misses).
fn cache_use(run: &Run) -> (u64, u64) {
    run.success();
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let used = &report["report"]["scan_cache"];
    (
        used["hits"].as_u64().unwrap(),
        used["misses"].as_u64().unwrap(),
    )
}

#[test]
fn a_rebuild_parses_only_the_text_whose_inputs_changed_and_a_damaged_cache_is_ignored() {
    let t = Tree::new();
    t.file(
        "index.html",
        "<link rel=stylesheet href=css/a.css><script type=module src=js/app.js></script>",
    )
    .file("about.html", "<link rel=stylesheet href=css/b.css>")
    .file("css/a.css", "body { background: url(../img/x.png) }")
    .file("css/b.css", "p { color: red }")
    .file("js/app.js", "import './lib.js'; fetch('/img/x.png');")
    .file("js/lib.js", "export const a = 1;")
    .file("img/x.png", b"\x89PNG");
    // Six text files: each scanned, named, and (HTML and JS) searched for runtime URLs.
    let lookups = 6 + 6 + 4;
    assert_eq!(cache_use(&t.build(&["--json"])), (0, lookups));
    let cache = t.output().join(".assetc/scan-cache");
    let written = fs::read(&cache).unwrap();

    // Nothing changed: nothing parsed, and the cache is left as it was.
    assert_eq!(cache_use(&t.build(&["--json"])), (lookups, 0));
    assert_eq!(fs::read(&cache).unwrap(), written);

    // One stylesheet changed: it is scanned and named again, and so is the one page whose
    // link to it changes; the page's strings are not searched again (the same files are
    // renamed), nor is anything else parsed.
    t.file("css/b.css", "p { color: blue }");
    assert_eq!(cache_use(&t.build(&["--json"])), (lookups - 3, 3));
    let fresh = t.build_into("fresh", &[]);
    fresh.success();
    // Every file a fresh build writes, byte for byte (the cached build also keeps the older
    // generation's stylesheet).
    let same_as_fresh = || {
        let built: std::collections::BTreeMap<_, _> =
            served_tree(&t.output()).into_iter().collect();
        for (path, bytes) in served_tree(&t.root().join("fresh")) {
            if path != "assetc-manifest.json" {
                assert_eq!(built.get(&path), Some(&bytes), "`{path}` differs");
            }
        }
    };
    same_as_fresh();

    // A damaged cache (one bit) is not read at all, and the build that finds it writes a
    // sound one.
    let mut damaged = fs::read(&cache).unwrap();
    let at = damaged.len() / 2;
    damaged[at] ^= 0x20;
    fs::write(&cache, &damaged).unwrap();
    assert_eq!(cache_use(&t.build(&["--json"])), (0, lookups));
    same_as_fresh();
    assert_eq!(cache_use(&t.build(&["--json"])), (lookups, 0));
}
