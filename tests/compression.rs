//! Precompressed variants and incremental builds, build side: what is written, that it
//! decodes to the identity bytes, that it never depends on thread count, and that a rebuild
//! redoes exactly what changed.

use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;

use crate::common::{served_tree, Tree};

fn decode(coding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "br" => brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap(),
        "zstd" => out = zstd::decode_all(bytes).unwrap(),
        "gzip" => {
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .unwrap();
        }
        other => panic!("unknown coding {other}"),
    }
    out
}

/// Bytes that do not compress (a simple deterministic generator).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn compressible_files_get_variants_that_decode_to_the_identity_bytes() {
    let t = Tree::new();
    let css = ".rule { color: red; margin: 0 auto; }\n".repeat(200);
    t.file("css/site.css", &css)
        .file("tiny.css", "a{}")
        .file("img/photo.png", noise(8000))
        .file("js/random.js", noise(8000))
        .file(
            "index.html",
            format!(
                "<link rel=stylesheet href=css/site.css>{}",
                "<p>hello</p>\n".repeat(200)
            ),
        );
    let run = t.build(&["--json", "--quiet"]);
    run.success();
    let m = t.manifest();
    let entry = &m["entries"]["css/site.css"];
    let identity = fs::read(t.output().join(entry["path"].as_str().unwrap())).unwrap();
    let variants = entry["variants"].as_object().unwrap();
    assert_eq!(variants.keys().collect::<Vec<_>>(), ["br", "gzip", "zstd"]);
    let mut etags = vec![entry["etag"].as_str().unwrap().to_owned()];
    for (coding, v) in variants {
        let path = v["path"].as_str().unwrap();
        let suffix = match coding.as_str() {
            "br" => ".br",
            "gzip" => ".gz",
            _ => ".zst",
        };
        assert_eq!(path, format!("{}{suffix}", entry["path"].as_str().unwrap()));
        let encoded = fs::read(t.output().join(path)).unwrap();
        assert_eq!(v["size"], encoded.len());
        assert!(
            encoded.len() < identity.len() / 4,
            "{coding} barely compresses"
        );
        assert_eq!(
            decode(coding, &encoded),
            identity,
            "{coding} does not decode to the identity bytes"
        );
        etags.push(v["etag"].as_str().unwrap().to_owned());
    }
    etags.sort();
    etags.dedup();
    assert_eq!(
        etags.len(),
        4,
        "every representation has its own strong ETag"
    );
    assert!(
        !m["entries"]["index.html"]["variants"]
            .as_object()
            .unwrap()
            .is_empty(),
        "pages get variants too"
    );
    for none in ["tiny.css", "img/photo.png", "js/random.js"] {
        assert!(
            m["entries"][none]["variants"]
                .as_object()
                .unwrap()
                .is_empty(),
            "{none} should have no variants"
        );
    }
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(report["report"]["variants"]["br"]["files"], 2);
}

#[test]
fn the_codings_are_configurable() {
    let t = Tree::new();
    t.file("a.js", "const value = 12345;\n".repeat(300));
    t.build(&["--codings", "gzip"]).success();
    let variants = t.manifest()["entries"]["a.js"]["variants"].clone();
    assert_eq!(
        variants.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["gzip"]
    );
    // A change of codings is a change of configuration: nothing stale is reused.
    t.build(&["--codings", "br"]).success();
    let entry = t.manifest()["entries"]["a.js"].clone();
    assert_eq!(
        entry["variants"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["br"]
    );
    assert!(t
        .output()
        .join(format!("{}.br", entry["path"].as_str().unwrap()))
        .exists());
    t.build(&["--codings", "none"]).success();
    assert!(t.manifest()["entries"]["a.js"]["variants"]
        .as_object()
        .unwrap()
        .is_empty());
    let bad = t.build(&["--codings", "lzma"]);
    bad.failure(1);
    assert!(
        bad.stderr().contains("unknown coding `lzma`"),
        "{}",
        bad.stderr()
    );
}

#[test]
fn the_output_does_not_depend_on_the_thread_count() {
    let t = Tree::new();
    for i in 0..60 {
        t.file(
            &format!("css/{i}.css"),
            format!(".c{i} {{ background: url(../img/{i}.png) }}\n").repeat(60),
        );
        t.file(&format!("img/{i}.png"), format!("png {i}"));
        t.file(
            &format!("js/{i}.js"),
            format!(
                "import './{}.js';\nexport const x{i} = {i};\n",
                (i + 1) % 60
            )
            .repeat(1),
        );
    }
    let links: String = (0..60)
        .map(|i| {
            format!(
                "<link rel=stylesheet href=css/{i}.css><script type=module src=js/{i}.js></script>"
            )
        })
        .collect();
    t.file("index.html", links);
    t.build_into("one", &["--jobs", "1"]).success();
    t.build_into("two", &["--jobs", "4"]).success();
    t.build_into("three", &[]).success();
    let one = served_tree(&t.root().join("one"));
    assert!(one.len() > 180);
    assert!(
        one == served_tree(&t.root().join("two")),
        "--jobs 1 and --jobs 4 differ"
    );
    assert!(
        one == served_tree(&t.root().join("three")),
        "--jobs 1 and the default differ"
    );
}

fn inode(t: &Tree, served: &str) -> u64 {
    fs::metadata(t.output().join(served)).unwrap().ino()
}

#[test]
fn a_rebuild_redoes_exactly_the_changed_file_and_its_dependents() {
    let t = Tree::new();
    t.file(
        "css/a.css",
        ".a { background: url(../img/a.png) }\n".repeat(50),
    )
    .file("css/b.css", ".b { color: blue }\n".repeat(80))
    .file("img/a.png", "a")
    .file("img/b.png", "b")
    .file(
        "one.html",
        "<link rel=stylesheet href=css/a.css><link rel=stylesheet href=css/b.css>",
    )
    .file(
        "two.html",
        "<link rel=stylesheet href=css/b.css><img src=img/b.png>",
    );
    t.build(&[]).success();
    let before = t.manifest();
    let inodes: Vec<(String, u64)> = ["css/b.css", "img/b.png", "two.html"]
        .iter()
        .map(|l| (l.to_string(), inode(&t, &t.served(l))))
        .collect();
    let b_br = inode(&t, &format!("{}.br", t.served("css/b.css")));

    t.file("img/a.png", "a, changed");
    let run = t.build(&["--json", "--quiet"]);
    run.success();
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    // img/a.png, css/a.css (references it), one.html (loads css/a.css).
    assert_eq!(report["report"]["written"], 3, "{}", report);
    assert_eq!(report["report"]["reused"], 3);
    for (logical, ino) in &inodes {
        assert_eq!(
            inode(&t, &t.served(logical)),
            *ino,
            "{logical} was rewritten, not reused"
        );
    }
    assert_eq!(
        inode(&t, &format!("{}.br", t.served("css/b.css"))),
        b_br,
        "variants are reused too"
    );
    let after = t.manifest();
    for changed in ["img/a.png", "css/a.css", "one.html"] {
        assert_ne!(
            before["entries"][changed]["sha256"], after["entries"][changed]["sha256"],
            "{changed}"
        );
    }
    // Never stale: every file matches the manifest.
    t.verify().success();
    let css = t.read(&t.served("css/a.css"));
    assert!(css.contains(t.served("img/a.png").rsplit('/').next().unwrap()));

    let run = t.build(&["--json", "--quiet"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(report["report"]["changed"], false);
    assert_eq!(report["report"]["written"], 0);
}
