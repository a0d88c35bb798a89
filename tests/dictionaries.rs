//! Compression dictionary deltas (RFC 9842), build side: after a rebuild with a changed
//! file, the manifest records `dcb:<sha>`/`dcz:<sha>` variants against the previous
//! generation's bytes, framed as RFC 9842 §4 and §5 say, decodable by the `zstd` CLI and the
//! `brotli` crate with the old file as the dictionary; `verify` knows the delta files.

use std::fs;
use std::io::Read;
use std::process::Command;

use sha2::{Digest as _, Sha256};

use crate::common::Tree;

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
