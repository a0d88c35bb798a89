//! `assetc publish` (issue 19) against a real S3-compatible server, s3s-fs, started on
//! 127.0.0.1 by the test, behind a logging proxy that records the order the store receives
//! requests in: every object's headers and bytes read back through the S3 API, the order
//! (no page before the last fingerprinted file, the manifest last), publishes killed at
//! several points and run again, idempotent reruns, header refreshes without bytes,
//! `--delete` over kept generations, `--variants keys`, `--dry-run`, and the errors; and
//! moto as a second opinion, the one that answers a CDN's revalidation with 304.

mod moto;
mod proxy;
mod s3;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

use proxy::{Logged, Proxy};
use s3::{Object, S3};
use serde_json::Value;

use crate::common::{assetc, Run, Tree};

const BUCKET: &str = "site";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A site with a page graph: `index.html` and `about.html` load `css/site.css`, which
/// imports `css/base.css` and uses `img/logo.svg`; `index.html` loads `js/app.js`;
/// `plain.html` loads nothing. Big enough for every coding's variant.
fn site() -> Tree {
    let tree = Tree::new();
    let rules = rules();
    tree.file("css/base.css", tree_base("v1"))
        .file(
            "css/site.css",
            format!("@import \"base.css\";\nbody {{ background: url(../img/logo.svg); }}\n{rules}"),
        )
        .file(
            "img/logo.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>\n",
        )
        .file("js/app.js", "console.log(\"app\");\n")
        .file(
            "index.html",
            "<!doctype html><link rel=stylesheet href=\"css/site.css\"><script src=\"js/app.js\"></script><p>index\n",
        )
        .file(
            "about.html",
            "<!doctype html><link rel=stylesheet href=\"css/site.css\"><p>about\n",
        )
        .file("plain.html", "<!doctype html><p>plain\n");
    tree
}

/// `assetc publish --root build --to s3://site --endpoint ENDPOINT --json ARGS` (`--to`
/// only when ARGS has none) in the tree's root with the test credentials and no other AWS
/// setting of the machine.
fn publish_command(tree: &Tree, endpoint: &str, args: &[&str]) -> Command {
    let mut cmd = assetc();
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(tree.root())
        .args([
            "publish",
            "--root",
            "build",
            "--endpoint",
            endpoint,
            "--json",
        ])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", s3::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", s3::SECRET_KEY)
        .env("AWS_REGION", "us-east-1");
    if !args.contains(&"--to") {
        cmd.args(["--to", &format!("s3://{BUCKET}")]);
    }
    cmd
}

fn publish(tree: &Tree, endpoint: &str, args: &[&str]) -> Run {
    Run(publish_command(tree, endpoint, args)
        .output()
        .expect("run assetc publish"))
}

/// The `--json` report's summary.
fn summary(run: &Run) -> Value {
    let report: Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("not a JSON report ({e}): {}", run.stdout()));
    report["summary"].clone()
}

/// `{uploaded, refreshed, skipped, deleted}` of a run.
fn counts(run: &Run) -> [u64; 4] {
    let s = summary(run);
    ["uploaded", "refreshed", "skipped", "deleted"].map(|k| s[k].as_u64().unwrap())
}

fn manifest(tree: &Tree) -> assetc_core::Manifest {
    assetc_core::Manifest::from_json(tree.read("assetc-manifest.json").as_bytes()).unwrap()
}

/// What the bucket must hold for `tree`'s build: every entry at its served path with its
/// headers and bytes, and the manifest.
fn expected(tree: &Tree, immutable: &str) -> BTreeMap<String, Object> {
    let m = manifest(tree);
    let mut objects = BTreeMap::new();
    for entry in m.entries.values() {
        objects.insert(
            entry.path.clone(),
            Object {
                cache_control: Some(
                    if entry.immutable {
                        immutable
                    } else {
                        "no-cache"
                    }
                    .into(),
                ),
                content_type: Some(entry.content_type.clone()),
                content_encoding: None,
                sha256: Some(entry.sha256.clone()),
                bytes: std::fs::read(tree.output().join(&entry.path)).unwrap(),
            },
        );
    }
    let bytes = std::fs::read(tree.output().join("assetc-manifest.json")).unwrap();
    objects.insert(
        "assetc-manifest.json".into(),
        Object {
            cache_control: Some("no-cache".into()),
            content_type: Some("application/json".into()),
            content_encoding: None,
            sha256: Some(assetc_core::fingerprint::hex(
                &assetc_core::fingerprint::sha256(&bytes),
            )),
            bytes,
        },
    );
    objects
}

/// The keys of the changing requests (PUT, DELETE) in `log`, in order, without the bucket.
fn changes(log: &[Logged]) -> Vec<(String, String)> {
    let prefix = format!("/{BUCKET}/");
    log.iter()
        .filter(|r| r.method != "GET" && r.method != "HEAD")
        .map(|r| {
            let key = r.path.strip_prefix(&prefix).unwrap_or(&r.path).to_owned();
            (r.method.clone(), key)
        })
        .collect()
}

/// Served paths of the fingerprinted entries of `tree`'s build.
fn fingerprinted(tree: &Tree) -> BTreeSet<String> {
    manifest(tree)
        .entries
        .values()
        .filter(|e| e.immutable)
        .map(|e| e.path.clone())
        .collect()
}

#[test]
fn a_publish_uploads_every_object_with_its_headers_fingerprinted_first_and_the_manifest_last() {
    let tree = site();
    tree.build(&[]).success();
    let s3 = S3::start(&[BUCKET]);
    let proxy = Proxy::start(s3.addr);
    // The default `--jobs` (8 in flight): the order holds under concurrency.
    let run = publish(&tree, &proxy.url(), &[]);
    run.success();
    let want = expected(&tree, IMMUTABLE);
    assert_eq!(s3.objects(BUCKET), want);
    assert_eq!(counts(&run), [want.len() as u64, 0, 0, 0]);

    let log = proxy.take_log();
    let puts = changes(&log);
    assert!(puts.iter().all(|(m, _)| m == "PUT"), "{puts:#?}");
    assert!(log.iter().all(|r| !r.copy));
    let order: Vec<&str> = puts.iter().map(|(_, k)| k.as_str()).collect();
    let assets = fingerprinted(&tree);
    let last_asset = order.iter().rposition(|k| assets.contains(*k)).unwrap();
    let first_page = order.iter().position(|k| !assets.contains(*k)).unwrap();
    assert_eq!(last_asset + 1, assets.len());
    assert_eq!(
        first_page,
        assets.len(),
        "a page before an asset: {order:#?}"
    );
    assert_eq!(order.last(), Some(&"assetc-manifest.json"));
    assert_eq!(
        order.iter().copied().collect::<BTreeSet<_>>(),
        want.keys().map(String::as_str).collect()
    );
    assert!(
        run.stderr().contains(&format!(
            "published `build` to `s3://{BUCKET}`: uploaded {} objects",
            want.len()
        )),
        "{}",
        run.stderr()
    );

    // The same build again: every object HEADed, nothing sent.
    let again = publish(&tree, &proxy.url(), &[]);
    again.success();
    assert_eq!(counts(&again), [0, 0, want.len() as u64, 0]);
    assert_eq!(changes(&proxy.take_log()), Vec::new());
    assert_eq!(s3.objects(BUCKET), want);
}

#[test]
fn a_changed_cache_control_refreshes_headers_without_sending_bytes() {
    let tree = site();
    tree.build(&[]).success();
    let s3 = S3::start(&[BUCKET]);
    let proxy = Proxy::start(s3.addr);
    publish(&tree, &proxy.url(), &[]).success();
    proxy.take_log();
    let short = "public, max-age=600, immutable";
    std::fs::write(
        tree.root().join("assetc.toml"),
        format!("[publish]\ncache_control_immutable = \"{short}\"\n"),
    )
    .unwrap();
    let run = publish(&tree, &proxy.url(), &[]);
    run.success();
    let assets = fingerprinted(&tree);
    let want = expected(&tree, short);
    assert_eq!(
        counts(&run),
        [
            0,
            assets.len() as u64,
            (want.len() - assets.len()) as u64,
            0
        ]
    );
    let log = proxy.take_log();
    let sent: Vec<&Logged> = log.iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(sent.len(), assets.len());
    assert!(sent.iter().all(|r| r.copy && r.body == 0), "{sent:#?}");
    assert_eq!(s3.objects(BUCKET), want);
}

#[test]
fn a_rebuild_with_one_css_changed_uploads_it_its_dependents_and_the_pages_that_load_them() {
    let tree = site();
    tree.build(&[]).success();
    let s3 = S3::start(&[BUCKET]);
    let proxy = Proxy::start(s3.addr);
    publish(&tree, &proxy.url(), &[]).success();
    let old = expected(&tree, IMMUTABLE);
    proxy.take_log();
    tree.file("css/base.css", tree_base("v2"));
    tree.build(&[]).success();
    let run = publish(&tree, &proxy.url(), &[]);
    run.success();
    let uploaded: BTreeSet<String> = changes(&proxy.take_log())
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    let wanted: BTreeSet<String> = [
        tree.served("css/base.css"),
        tree.served("css/site.css"),
        "index.html".into(),
        "about.html".into(),
        "assetc-manifest.json".into(),
    ]
    .into();
    assert_eq!(uploaded, wanted);
    // Without `--delete` the old release stays whole for pages still cached.
    let mut all = old;
    all.extend(expected(&tree, IMMUTABLE));
    assert_eq!(s3.objects(BUCKET), all);
}

#[test]
fn delete_removes_exactly_the_keys_no_kept_generation_lists_after_the_pages() {
    let tree = site();
    // Two generations kept, by count alone, for the build directory and the bucket alike.
    std::fs::write(
        tree.root().join("assetc.toml"),
        "[build]\nkeep = 2\nkeep_age = \"0s\"\n",
    )
    .unwrap();
    let s3 = S3::start(&[BUCKET]);
    let proxy = Proxy::start(s3.addr);
    let mut generations = Vec::new();
    for version in ["v1", "v2", "v3"] {
        let base = tree_base(version);
        tree.file("css/base.css", base);
        tree.file("js/app.js", format!("console.log(\"{version}\");\n"));
        tree.build(&[]).success();
        publish(&tree, &proxy.url(), &[]).success();
        generations.push(fingerprinted(&tree));
    }
    s3.put_raw(BUCKET, "stray/notes.txt", b"not assetc's\n");
    proxy.take_log();
    let before: BTreeSet<String> = s3.objects(BUCKET).into_keys().collect();
    let run = publish(&tree, &proxy.url(), &["--delete"]);
    run.success();
    let kept: BTreeSet<String> = generations[1].union(&generations[2]).cloned().collect();
    let mut gone: BTreeSet<String> = generations[0].difference(&kept).cloned().collect();
    gone.insert("stray/notes.txt".into());
    assert!(gone.len() > 2, "v1 had files of its own: {gone:?}");
    let log = changes(&proxy.take_log());
    let deleted: BTreeSet<String> = log
        .iter()
        .filter(|(m, _)| m == "DELETE")
        .map(|(_, k)| k.clone())
        .collect();
    assert_eq!(deleted, gone);
    assert_eq!(
        counts(&run),
        [
            0,
            0,
            expected(&tree, IMMUTABLE).len() as u64,
            gone.len() as u64
        ]
    );
    let after: BTreeSet<String> = s3.objects(BUCKET).into_keys().collect();
    assert_eq!(after, before.difference(&gone).cloned().collect());
}

/// `css/base.css` of version `version`.
fn tree_base(version: &str) -> String {
    format!("/* base {version} */\n{}", rules())
}

/// CSS rules enough for every coding's variant to be kept.
fn rules() -> String {
    (0..120)
        .map(|i| format!(".rule-{i} {{ margin: {i}px; padding: {i}px; }}\n"))
        .collect()
}

#[test]
fn delete_after_a_fresh_upload_deletes_after_the_manifest() {
    let tree = site();
    tree.build(&[]).success();
    let s3 = S3::start(&[BUCKET]);
    s3.put_raw(BUCKET, "old.txt", b"old\n");
    let proxy = Proxy::start(s3.addr);
    publish(&tree, &proxy.url(), &["--delete"]).success();
    let log = changes(&proxy.take_log());
    let manifest_at = log
        .iter()
        .position(|(m, k)| m == "PUT" && k == "assetc-manifest.json")
        .unwrap();
    assert_eq!(
        log[manifest_at + 1..],
        [("DELETE".into(), "old.txt".into())]
    );
    assert_eq!(s3.objects(BUCKET), expected(&tree, IMMUTABLE));
}

#[test]
fn variant_keys_carry_content_encoding_and_the_originals_type_and_plain_keys_never_do() {
    let tree = site();
    tree.build(&[]).success();
    // A rebuild: the changed stylesheets also get dictionary deltas (dcb/dcz against the
    // previous build), which need an origin that negotiates and are not published.
    tree.file("css/base.css", tree_base("v2"));
    tree.build(&[]).success();
    let s3 = S3::start(&[BUCKET]);
    publish(&tree, &s3.url(), &["--variants", "keys"]).success();
    let objects = s3.objects(BUCKET);
    let m = manifest(&tree);
    let deltas = m.entries.values().flat_map(|e| e.variants.keys());
    assert!(deltas.filter(|c| c.starts_with("dc")).count() >= 2);
    let mut want = expected(&tree, IMMUTABLE);
    let mut variants = 0;
    for entry in m.entries.values() {
        let plain = entry
            .variants
            .iter()
            .filter(|(c, _)| ["br", "zstd", "gzip"].contains(&c.as_str()));
        for (coding, variant) in plain {
            variants += 1;
            let bytes = std::fs::read(tree.output().join(&variant.path)).unwrap();
            assert_eq!(
                crate::common::decode(coding, &bytes),
                want[&entry.path].bytes,
                "{}",
                variant.path
            );
            want.insert(
                variant.path.clone(),
                Object {
                    content_encoding: Some(coding.clone()),
                    sha256: Some(variant.sha256.clone()),
                    bytes,
                    ..want[&entry.path].clone()
                },
            );
        }
    }
    assert!(variants >= 6, "br, zstd and gzip of both stylesheets");
    assert_eq!(objects, want);
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let tree = site();
    tree.build(&[]).success();
    let s3 = S3::start(&[BUCKET]);
    let proxy = Proxy::start(s3.addr);
    let run = publish(&tree, &proxy.url(), &["--dry-run"]);
    run.success();
    assert_eq!(changes(&proxy.take_log()), Vec::new());
    assert_eq!(s3.objects(BUCKET), BTreeMap::new());
    let want = expected(&tree, IMMUTABLE);
    let lines: Vec<String> = run
        .stderr()
        .lines()
        .filter(|l| l.starts_with("would upload `"))
        .map(|l| l.split('`').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(lines.len(), want.len());
    assert_eq!(
        lines.last().map(String::as_str),
        Some("assetc-manifest.json")
    );
    assert_eq!(
        lines.iter().cloned().collect::<BTreeSet<_>>(),
        want.keys().cloned().collect()
    );
    let report: Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["plan"]["manifest"]["reason"], "missing");
    assert_eq!(counts(&run), [want.len() as u64, 0, 0, 0]);
}

#[test]
fn a_fingerprinted_key_holding_other_bytes_is_never_overwritten_and_no_page_goes_up() {
    let tree = site();
    tree.build(&[]).success();
    let s3 = S3::start(&[BUCKET]);
    let css = tree.served("css/site.css");
    s3.put_raw(BUCKET, &css, b"other bytes\n");
    let run = publish(&tree, &s3.url(), &[]);
    run.failure(1);
    assert!(
        run.stderr()
            .contains(&format!("error: `{css}` already holds other bytes")),
        "{}",
        run.stderr()
    );
    let objects = s3.objects(BUCKET);
    assert_eq!(objects[&css].bytes, b"other bytes\n");
    for page in [
        "index.html",
        "about.html",
        "plain.html",
        "assetc-manifest.json",
    ] {
        assert!(!objects.contains_key(page), "{page} went up");
    }
}

#[test]
fn a_publish_that_loses_the_race_for_a_fingerprinted_key_counts_the_412_on_equal_bytes_as_done() {
    let tree = site();
    tree.build(&[]).success();
    let s3 = S3::start(&[BUCKET]);
    let proxy = Proxy::start(s3.addr);
    // The first publish plans every key as missing, then waits at its first PUT while a
    // second one, straight to the store, uploads everything.
    proxy.hold_after(0);
    let first = publish_command(&tree, &proxy.url(), &["--jobs", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    proxy.wait_held();
    publish(&tree, &s3.url(), &[]).success();
    proxy.take_log();
    proxy.forward();
    let first = Run(first.wait_with_output().unwrap());
    first.success();
    let assets = fingerprinted(&tree);
    let want = expected(&tree, IMMUTABLE);
    // Every create-only PUT got its 412 and found its own bytes; the pages were overwritten.
    let pages = (want.len() - assets.len()) as u64;
    assert_eq!(counts(&first), [pages, 0, assets.len() as u64, 0]);
    let puts = changes(&proxy.take_log());
    assert_eq!(puts.len(), want.len(), "{puts:#?}");
    assert_eq!(s3.objects(BUCKET), want);
}

#[test]
fn a_publish_killed_at_any_point_leaves_a_consistent_bucket_and_the_next_run_finishes() {
    let tree = site();
    tree.build(&[]).success();
    let s3 = S3::start(&[BUCKET]);
    let proxy = Proxy::start(s3.addr);
    publish(&tree, &proxy.url(), &[]).success();
    let v1 = expected(&tree, IMMUTABLE);
    tree.file("css/base.css", tree_base("v2"));
    tree.file(
        "img/logo.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
    );
    tree.build(&[]).success();
    let v2 = expected(&tree, IMMUTABLE);
    let v2_assets = fingerprinted(&tree);
    // Kill points, each counted in changing requests let through before the hold: none at
    // all, one asset, every remaining asset (held at the first page), every remaining page
    // (held at the manifest).
    let points: [fn(&Value) -> usize; 4] = [
        |_| 0,
        |_| 1,
        |plan| uploads(&plan["assets"]),
        |plan| uploads(&plan["pages"]),
    ];
    for (i, point) in points.iter().enumerate() {
        let dry = publish(&tree, &proxy.url(), &["--dry-run"]);
        let plan: Value = serde_json::from_str(&dry.stdout()).unwrap();
        let n = point(&plan["plan"]);
        proxy.hold_after(n);
        let mut child = publish_command(&tree, &proxy.url(), &["--jobs", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        proxy.wait_held();
        child.kill().unwrap();
        child.wait().unwrap();
        proxy.release();
        let objects = s3.objects(BUCKET);
        assert_consistent(&objects, &v1, &v2, &v2_assets, &format!("kill point {i}"));
    }
    let run = publish(&tree, &proxy.url(), &[]);
    run.success();
    let objects = s3.objects(BUCKET);
    let mut all = v1.clone();
    all.extend(v2.clone());
    assert_eq!(objects, all);
    // The last run sent only what the killed ones had not: the manifest at least.
    let [uploaded, ..] = counts(&run);
    assert!(
        uploaded >= 1 && (uploaded as usize) < v2.len(),
        "{uploaded}"
    );
}

/// The number of uploads in a plan phase of the `--json` report.
fn uploads(phase: &Value) -> usize {
    phase
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "upload")
        .count()
}

/// Every object is one of v1's or v2's; a page or manifest of v2 is there only if every
/// fingerprinted object of v2 is (so no page references a missing object); the manifest
/// is v2's only if every v2 object is.
#[track_caller]
fn assert_consistent(
    objects: &BTreeMap<String, Object>,
    v1: &BTreeMap<String, Object>,
    v2: &BTreeMap<String, Object>,
    v2_assets: &BTreeSet<String>,
    at: &str,
) {
    for (key, object) in objects {
        assert!(
            v1.get(key) == Some(object) || v2.get(key) == Some(object),
            "{at}: `{key}` is neither v1's nor v2's"
        );
    }
    let assets_up = v2_assets.iter().all(|k| objects.get(k) == v2.get(k));
    for (key, object) in objects {
        if !v2_assets.contains(key) && v2.get(key) == Some(object) && v1.get(key) != Some(object) {
            assert!(
                assets_up,
                "{at}: v2's `{key}` is up before all of v2's assets"
            );
        }
    }
    if objects.get("assetc-manifest.json") == v2.get("assetc-manifest.json") {
        assert!(
            v2.iter().all(|(k, o)| objects.get(k) == Some(o)),
            "{at}: v2's manifest before all of v2"
        );
    }
}

#[test]
fn bad_credentials_a_missing_bucket_and_an_unreachable_endpoint_give_one_clear_error_each() {
    let tree = site();
    tree.build(&[]).success();
    let s3 = S3::start(&[BUCKET]);

    let run = Run(publish_command(&tree, &s3.url(), &[])
        .env("AWS_SECRET_ACCESS_KEY", "wrong")
        .output()
        .unwrap());
    run.failure(1);
    assert_one_error(
        &run,
        &format!(
            "error: cannot list `s3://{BUCKET}` at `{}`: the store answered 403 Forbidden: `SignatureDoesNotMatch`",
            s3.url()
        ),
        "hint: check `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (or the profile's credentials)",
    );

    let run = publish(&tree, &s3.url(), &["--to", "s3://nosuch"]);
    run.failure(1);
    assert_one_error(
        &run,
        &format!(
            "error: cannot list `s3://nosuch` at `{}`: the store answered 404 Not Found: `NoSuchBucket`",
            s3.url()
        ),
        "hint: the bucket `nosuch` does not exist: create it, or check `--to`",
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let run = publish(&tree, &endpoint, &[]);
    run.failure(1);
    assert_one_error(
        &run,
        &format!(
            "error: cannot list `s3://{BUCKET}` at `{endpoint}`: Connection refused (os error 111)"
        ),
        "hint: check `--endpoint` (or `AWS_ENDPOINT_URL`) and that the store is running",
    );
    assert_eq!(s3.objects(BUCKET), BTreeMap::new());
    assert!(std::fs::read_dir(s3.data().join(BUCKET))
        .unwrap()
        .next()
        .is_none());
}

/// stderr is the `error:` line `message` (the key or bucket, and the store's answer once),
/// then `hint`, and nothing else.
#[track_caller]
fn assert_one_error(run: &Run, message: &str, hint: &str) {
    assert_eq!(run.stderr(), format!("{message}\n{hint}\n"));
}

#[test]
fn moto_as_a_second_opinion_holds_the_same_objects_and_answers_page_revalidations_with_304() {
    let tree = site();
    tree.build(&["--codings", "none"]).success();
    let moto = moto::Moto::start(BUCKET);
    publish(&tree, &moto.url(), &[]).success();
    let want = expected(&tree, IMMUTABLE);
    let client = s3::client(&moto.url(), BUCKET);
    assert_eq!(s3::objects(&client), want);
    // A CDN revalidating a page (or anything) with the bucket's ETag gets a 304.
    for key in want.keys() {
        assert!(s3::revalidates(&client, key), "{key} answered no 304");
    }
    let run = publish(&tree, &moto.url(), &[]);
    run.success();
    assert_eq!(counts(&run), [0, 0, want.len() as u64, 0]);
}

#[test]
fn credentials_region_and_endpoint_come_from_a_shared_config_profile() {
    let tree = site();
    tree.build(&["--codings", "none"]).success();
    let s3 = S3::start(&[BUCKET]);
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n[site]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            s3::ACCESS_KEY,
            s3::SECRET_KEY
        ),
    )
    .unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile site]\nregion = us-east-1\nendpoint_url = {}\n",
            s3.url()
        ),
    )
    .unwrap();
    let run = |profile: &str| {
        let mut cmd = assetc();
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") {
                cmd.env_remove(key);
            }
        }
        Run(cmd
            .current_dir(tree.root())
            .args([
                "publish",
                "--root",
                "build",
                "--to",
                &format!("s3://{BUCKET}"),
            ])
            .env("HOME", home.path())
            .env("AWS_PROFILE", profile)
            .output()
            .unwrap())
    };
    run("site").success();
    assert_eq!(s3.objects(BUCKET), expected(&tree, IMMUTABLE));
    // The default profile's keys are unknown to the store, which says so.
    std::fs::write(
        aws.join("config"),
        format!("[default]\nendpoint_url = {}\n", s3.url()),
    )
    .unwrap();
    let wrong = run("default");
    wrong.failure(1);
    assert_one_error(
        &wrong,
        &format!(
            "error: cannot list `s3://{BUCKET}` at `{}`: the store answered 403 Forbidden: `NotSignedUp`: Your account is not signed up",
            s3.url()
        ),
        "hint: check `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (or the profile's credentials)",
    );
}
