//! Compression dictionary deltas (RFC 9842). Build side: after a rebuild with a changed
//! file, the manifest records `dcb:<sha>`/`dcz:<sha>` variants against the previous
//! generation's bytes, framed as RFC 9842 §4 and §5 say, decodable by the `zstd` CLI and the
//! `brotli` crate with the old file as the dictionary; `verify` knows the delta files.
//! Serve side, with real `curl` against the real binary: `Use-As-Dictionary` on
//! fingerprinted files, the delta for a request naming the old version, its own validators,
//! ranges and HEAD, the fallbacks, and `--no-dictionaries`.

use std::fs;
use std::io::Read;
use std::process::Command;

use base64::Engine;
use sha2::{Digest as _, Sha256};

use crate::common::http::Http;
use crate::common::server::Server;
use crate::common::Tree;
use crate::serve::Curl;

fn script(changed: u32) -> String {
    (0..800)
        .map(|i| {
            let v = if i == changed { 424_242 } else { i * 3 };
            format!("export function f{i}(x) {{ return x * {v} + {i}; }}\n")
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// v1 built, then v2 with one line of `js/app.js` changed: the tree, v1's served path and
/// bytes.
fn two_versions() -> (Tree, String, Vec<u8>) {
    let t = Tree::new();
    t.file("js/app.js", script(1))
        .file("img/a.svg", "<svg/>".repeat(400));
    t.build(&[]).success();
    let old_path = t.served("js/app.js");
    let old = fs::read(t.output().join(&old_path)).unwrap();
    t.file("js/app.js", script(700));
    t.build(&[]).success();
    (t, old_path, old)
}

#[test]
fn a_changed_file_gets_dcb_and_dcz_deltas_against_the_previous_version() {
    let (t, old_path, old) = two_versions();
    let m = t.manifest();
    let entry = &m["entries"]["js/app.js"];
    let new_path = entry["path"].as_str().unwrap();
    assert_ne!(new_path, old_path);
    let new = fs::read(t.output().join(new_path)).unwrap();
    let dict = hex(&Sha256::digest(&old));
    let variants = entry["variants"].as_object().unwrap();
    let mut keys: Vec<&str> = variants.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let (dcb_key, dcz_key) = (format!("dcb:{dict}"), format!("dcz:{dict}"));
    assert_eq!(
        keys,
        ["br", dcb_key.as_str(), dcz_key.as_str(), "gzip", "zstd"]
    );
    let br_size = variants["br"]["size"].as_u64().unwrap();

    // dcb: RFC 9842 §4 framing, then a brotli stream with the old file as dictionary.
    let dcb = &variants[&dcb_key];
    assert_eq!(
        dcb["path"].as_str().unwrap(),
        format!("{new_path}.{}.dcb", &dict[..12])
    );
    let bytes = fs::read(t.output().join(dcb["path"].as_str().unwrap())).unwrap();
    assert_eq!(bytes.len() as u64, dcb["size"].as_u64().unwrap());
    assert_eq!(
        dcb["sha256"].as_str().unwrap(),
        hex(&Sha256::digest(&bytes))
    );
    let etag = dcb["etag"].as_str().unwrap();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() == 24,
        "{etag}"
    );
    assert_ne!(etag, variants["br"]["etag"].as_str().unwrap());
    assert_eq!(bytes[..4], [0xff, 0x44, 0x43, 0x42]);
    assert_eq!(hex(&bytes[4..36]), dict);
    let mut decoded = Vec::new();
    brotli::Decompressor::new_with_custom_dict(&bytes[36..], 4096, old.clone().into())
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, new);
    assert!(
        bytes.len() as u64 * 10 < br_size,
        "dcb {} br {br_size}",
        bytes.len()
    );

    // dcz: RFC 9842 §5 skippable frame with the hash, then a zstd frame the CLI decodes.
    let dcz = &variants[&dcz_key];
    let dcz_path = t.output().join(dcz["path"].as_str().unwrap());
    let bytes = fs::read(&dcz_path).unwrap();
    assert_eq!(bytes[..8], [0x5e, 0x2a, 0x4d, 0x18, 0x20, 0, 0, 0]);
    assert_eq!(hex(&bytes[8..40]), dict);
    let frame = t.root().join("frame.zst");
    fs::write(&frame, &bytes[40..]).unwrap();
    let out = Command::new("zstd")
        .args(["-d", "-c", "-D"])
        .arg(t.output().join(&old_path))
        .arg(&frame)
        .output()
        .expect("the zstd CLI (just test-deps)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, new);
    assert!(
        bytes.len() as u64 * 10 < br_size,
        "dcz {} br {br_size}",
        bytes.len()
    );

    // Unchanged and incompressible-by-kind files get none; the old version keeps none.
    assert!(m["entries"]["img/a.svg"]["variants"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| !k.contains(':')));
    t.verify().success();
}

#[test]
fn a_rebuild_keeps_the_deltas_and_a_third_version_gets_deltas_against_the_second() {
    let (t, _, _) = two_versions();
    let before = t.manifest();
    t.build(&[]).success();
    assert_eq!(
        t.manifest(),
        before,
        "an unchanged rebuild keeps the deltas"
    );
    let second = fs::read(t.output().join(t.served("js/app.js"))).unwrap();
    t.file("js/app.js", script(400));
    t.build(&[]).success();
    let m = t.manifest();
    let keys: Vec<String> = m["entries"]["js/app.js"]["variants"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.contains(':'))
        .cloned()
        .collect();
    let dict = hex(&Sha256::digest(&second));
    assert_eq!(keys, [format!("dcb:{dict}"), format!("dcz:{dict}")]);
    t.verify().success();
}

/// `Available-Dictionary` naming `bytes` (RFC 9842 §2.2: `:<base64 SHA-256>:`).
fn available(bytes: &[u8]) -> String {
    format!(
        ":{}:",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
    )
}

const VARY: &str = "Accept-Encoding, Available-Dictionary";

/// No line of the server's log says it skipped a variant it did not know.
fn no_unknown_coding_warnings(server: &Server) {
    let warnings: Vec<String> = server
        .stderr()
        .into_iter()
        .filter(|l| l.contains("does not know"))
        .collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
}

#[test]
fn curl_gets_deltas_that_zstd_and_brotli_decode_with_the_old_file() {
    let (t, old_path, old) = two_versions();
    let m = t.manifest();
    let entry = &m["entries"]["js/app.js"];
    let new_path = entry["path"].as_str().unwrap();
    let new = fs::read(t.output().join(new_path)).unwrap();
    let dict = hex(&Sha256::digest(&old));
    let server = Server::serve(t.root()).start();
    let url = format!("/{new_path}");
    let offer = format!("Available-Dictionary: {}", available(&old));

    // Both versions offer themselves for later versions of js/app.js.
    for path in [&old_path, new_path] {
        let (status, head) = server.curl_head(&format!("/{path}"), &[]);
        assert_eq!(status, 200);
        assert_eq!(
            head.h("use-as-dictionary"),
            r#"match="app.*.js", match-dest=("script")"#
        );
    }

    // dcz: the zstd CLI decodes the frame after the 40-byte header with the old file.
    let dcz = &entry["variants"][format!("dcz:{dict}")];
    let args = ["-H", &offer, "-H", "Accept-Encoding: dcz"];
    let (status, head) = server.curl_get_head(&url, &args);
    assert_eq!(status, 200);
    assert_eq!(head.h("content-encoding"), "dcz");
    assert_eq!(head.h("etag"), dcz["etag"].as_str().unwrap());
    assert_eq!(head.h("vary"), VARY);
    assert_eq!(
        head.h("content-length"),
        dcz["size"].as_u64().unwrap().to_string()
    );
    let body = server.curl_body(&url, &args);
    assert_eq!(body[..8], [0x5e, 0x2a, 0x4d, 0x18, 0x20, 0, 0, 0]);
    assert_eq!(hex(&body[8..40]), dict);
    let frame = t.root().join("served.zst");
    fs::write(&frame, &body[40..]).unwrap();
    let out = Command::new("zstd")
        .args(["-d", "-c", "-D"])
        .arg(t.output().join(&old_path))
        .arg(&frame)
        .output()
        .expect("the zstd CLI (just test-deps)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, new);

    // dcb, which Chromium's Accept-Encoding also lists and the server prefers.
    let dcb = &entry["variants"][format!("dcb:{dict}")];
    let chromium = "Accept-Encoding: gzip, deflate, br, zstd, dcb, dcz";
    let args = ["-H", &offer, "-H", chromium];
    let (_, head) = server.curl_get_head(&url, &args);
    assert_eq!(head.h("content-encoding"), "dcb");
    assert_eq!(head.h("etag"), dcb["etag"].as_str().unwrap());
    let body = server.curl_body(&url, &args);
    assert_eq!(body[..4], [0xff, 0x44, 0x43, 0x42]);
    assert_eq!(hex(&body[4..36]), dict);
    let mut decoded = Vec::new();
    brotli::Decompressor::new_with_custom_dict(&body[36..], 4096, old.clone().into())
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, new);
    no_unknown_coding_warnings(&server);
}

#[test]
fn other_requests_are_negotiated_as_before_and_every_response_varies_on_both() {
    let (t, old_path, old) = two_versions();
    let m = t.manifest();
    let entry = &m["entries"]["js/app.js"];
    let url = format!("/{}", entry["path"].as_str().unwrap());
    let br_etag = entry["variants"]["br"]["etag"].as_str().unwrap();
    let server = Server::serve(t.root()).start();
    let chromium = "gzip, deflate, br, zstd, dcb, dcz";
    let known = available(&old);
    let unknown = available(b"another file");
    let truncated = known[..20].to_owned() + ":";
    // (Available-Dictionary, Accept-Encoding) → Content-Encoding.
    let table: &[(Option<&str>, &str, Option<&str>)] = &[
        (Some(&known), chromium, Some("dcb")),
        (Some(&known), "dcz, br", Some("dcz")),
        (Some(&known), "br, gzip", Some("br")),
        (Some(&known), "*", Some("br")),
        (Some(&known), "dcb;q=0.5, br", Some("br")),
        (Some(&known), "identity", None),
        (Some(&unknown), chromium, Some("br")),
        (Some(&truncated), chromium, Some("br")),
        (Some("not a byte sequence"), chromium, Some("br")),
        (None, chromium, Some("br")),
        (None, "gzip", Some("gzip")),
    ];
    for (dictionary, accept, coding) in table {
        let mut headers = vec![("Accept-Encoding", *accept)];
        headers.extend(dictionary.map(|d| ("Available-Dictionary", d)));
        let res = server.request("GET", &url, &headers);
        assert_eq!(res.status, 200, "{headers:?}");
        assert_eq!(res.header("content-encoding"), *coding, "{headers:?}");
        assert_eq!(res.h("vary"), VARY, "{headers:?}");
    }
    // The old version has no delta of its own (nothing older): it varies on Accept-Encoding.
    let res = server.request(
        "GET",
        &format!("/{old_path}"),
        &[
            ("Accept-Encoding", chromium),
            ("Available-Dictionary", &known),
        ],
    );
    assert_eq!(res.header("content-encoding"), Some("br"));
    assert_eq!(res.h("vary"), "Accept-Encoding");

    // Validators and ranges are the delta's own (RFC 9110 §8.8.3, §14).
    let delta_headers = [
        ("Accept-Encoding", chromium),
        ("Available-Dictionary", &known),
    ];
    let full = server.request("GET", &url, &delta_headers);
    let delta_etag = full.h("etag").to_owned();
    assert_ne!(delta_etag, br_etag);
    let with = |extra: &[(&str, &str)]| {
        let mut h = delta_headers.to_vec();
        h.extend_from_slice(extra);
        server.request("GET", &url, &h)
    };
    let res = with(&[("If-None-Match", &delta_etag)]);
    assert_eq!(res.status, 304);
    assert_eq!(res.h("etag"), delta_etag);
    assert_eq!(res.h("vary"), VARY);
    let res = with(&[("If-None-Match", br_etag)]);
    assert_eq!((res.status, res.h("etag")), (200, delta_etag.as_str()));
    let res = with(&[("Range", "bytes=0-9")]);
    assert_eq!(res.status, 206);
    assert_eq!(res.h("content-encoding"), "dcb");
    assert_eq!(
        res.h("content-range"),
        format!("bytes 0-9/{}", full.body.len())
    );
    assert_eq!(res.body, full.body[..10]);
    let res = with(&[("Range", "bytes=0-9"), ("If-Range", &delta_etag)]);
    assert_eq!(res.status, 206);
    let res = with(&[("Range", "bytes=0-9"), ("If-Range", br_etag)]);
    assert_eq!((res.status, res.body.len()), (200, full.body.len()));

    // HEAD has GET's headers.
    let head = server.request("HEAD", &url, &delta_headers);
    let without_date = crate::common::http::Response::headers_but_date;
    assert_eq!(without_date(&head), without_date(&full));
    assert!(head.body.is_empty());
    no_unknown_coding_warnings(&server);
}

#[test]
fn no_dictionaries_serves_the_deltas_build_as_one_without_them() {
    let (t, _, old) = two_versions();
    let url = format!("/{}", t.served("js/app.js"));
    let headers = [
        ("Accept-Encoding", "gzip, br, zstd, dcb, dcz"),
        ("Available-Dictionary", &*available(&old)),
    ];
    let server = Server::serve(t.root()).args(&["--no-dictionaries"]).start();
    let res = server.request("GET", &url, &headers);
    assert_eq!(res.header("content-encoding"), Some("br"));
    assert_eq!(res.h("vary"), "Accept-Encoding");
    assert!(!res.has("use-as-dictionary"), "{:?}", res.headers);
    no_unknown_coding_warnings(&server);
    drop(server);

    // `[serve] dictionaries = false` in assetc.toml does the same.
    fs::write(
        t.root().join("assetc.toml"),
        "[serve]\ndictionaries = false\n",
    )
    .unwrap();
    let server = Server::serve(t.root()).start();
    let res = server.request("GET", &url, &headers);
    assert_eq!(res.header("content-encoding"), Some("br"));
    assert!(!res.has("use-as-dictionary"), "{:?}", res.headers);
    fs::remove_file(t.root().join("assetc.toml")).unwrap();

    // A build made with `--dictionaries 0` has no deltas: served as before, still offered.
    t.file("js/app.js", script(3));
    t.build(&["--dictionaries", "0"]).success();
    let m = t.manifest();
    let keys: Vec<&String> = m["entries"]["js/app.js"]["variants"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["br", "gzip", "zstd"]);
    let server = Server::serve(t.root()).start();
    let url = format!("/{}", t.served("js/app.js"));
    let res = server.request("GET", &url, &headers);
    assert_eq!(res.header("content-encoding"), Some("br"));
    assert_eq!(res.h("vary"), "Accept-Encoding");
    assert_eq!(
        res.h("use-as-dictionary"),
        r#"match="app.*.js", match-dest=("script")"#
    );
    let run = t.build(&["--dictionaries", "5"]);
    run.failure(1);
    assert!(
        run.stderr()
            .starts_with("error: `dictionaries` must be at most 4, not `5`\n"),
        "{}",
        run.stderr()
    );
}

#[test]
fn patterns_name_each_file_alone_and_only_fingerprinted_compressible_files_offer_one() {
    let t = Tree::new();
    let css = ".a { color: red }\n".repeat(100);
    t.file("index.html", "<!doctype html><p>hi</p>\n")
        .file("js/app.js", script(1))
        .file("js/app.min.js", script(2))
        .file("css/a b ü+(1).css", &css)
        .file("css/site.css", &css)
        .file("img/dot.png", b"\x89PNG\r\n\x1a\n fake png");
    t.build(&[]).success();
    let server = Server::serve(t.root()).start();
    let offer = |logical: &str| {
        let res = server.get(&format!(
            "/{}",
            assetc_core::url_ref::encode_path(&t.served(logical))
        ));
        assert_eq!(res.status, 200, "{logical}");
        res.header("use-as-dictionary").map(str::to_owned)
    };
    // `app.*.js` would match `app.min.<fp>.js` too: left out; `app.min.*.js` is alone.
    assert_eq!(offer("js/app.js"), None);
    assert_eq!(
        offer("js/app.min.js").as_deref(),
        Some(r#"match="app.min.*.js", match-dest=("script")"#)
    );
    assert_eq!(
        offer("css/a b ü+(1).css").as_deref(),
        Some(r#"match="a%20b%20%C3%BC\\+\\(1\\).*.css", match-dest=("style")"#)
    );
    assert_eq!(
        offer("css/site.css").as_deref(),
        Some(r#"match="site.*.css", match-dest=("style")"#)
    );
    assert_eq!(offer("img/dot.png"), None);
    assert_eq!(offer("index.html"), None);
    // The logical path of a fingerprinted file is revalidated, not a version: no offer.
    let res = server.get("/css/site.css");
    assert_eq!(res.status, 200);
    assert!(!res.has("use-as-dictionary"));
}

/// The delta keys of `js/app.js` in the manifest, and whether each one's file is there.
fn delta_files(t: &Tree) -> Vec<(String, bool)> {
    let m = t.manifest();
    m["entries"]["js/app.js"]["variants"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.contains(':'))
        .map(|(k, v)| {
            let path = t.output().join(v["path"].as_str().unwrap());
            (k[..3].to_owned(), path.exists())
        })
        .collect()
}

#[test]
fn clean_keeps_the_listed_deltas_and_the_next_build_drops_those_whose_dictionary_is_gone() {
    let (t, old_path, _) = two_versions();
    let both = vec![("dcb".to_owned(), true), ("dcz".to_owned(), true)];
    assert_eq!(delta_files(&t), both);
    // Only the newest generation kept: the old file goes, the deltas it lists stay (a
    // browser holding the old file can still use them), and the build verifies.
    t.run(&["clean", "--root", "build", "--keep", "1", "--age", "0s"])
        .success();
    assert!(!t.output().join(&old_path).exists());
    assert_eq!(delta_files(&t), both);
    t.verify().success();
    // The next build that writes anything (a no-op build leaves the output as it is) no
    // longer keeps the dictionary's generation: no delta against it in its manifest. The
    // files stay while the previous generation, which lists them, is kept, and go with it.
    let listed = t.manifest();
    t.file("img/a.svg", "<svg/>".repeat(500));
    t.build(&[]).success();
    assert_eq!(delta_files(&t), []);
    let delta_paths: Vec<std::path::PathBuf> = listed["entries"]["js/app.js"]["variants"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.contains(':'))
        .map(|(_, v)| t.output().join(v["path"].as_str().unwrap()))
        .collect();
    assert_eq!(delta_paths.len(), 2);
    assert!(delta_paths.iter().all(|p| p.exists()));
    t.verify().success();
    t.run(&["clean", "--root", "build", "--keep", "1", "--age", "0s"])
        .success();
    assert!(delta_paths.iter().all(|p| !p.exists()));
    t.verify().success();
}
