//! Kept generations and reloads over a real socket: older generations' fingerprinted files
//! stay servable, a new build replaces the served one without a restart, requests in
//! flight finish on the build they started with, and a broken build is refused.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::fixture::Fixture;
use crate::common::http::Http;
use crate::common::server::InProcess;
use crate::common::{copy_tree, TIMEOUT};
use assetc_server::{Build, Mount, Options, Watcher};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The first release: the usual site, its stylesheet with variants.
fn v1() -> Fixture {
    let mut f = Fixture::site();
    f.add_variants("css/app.css", &["gzip", "br"]);
    f.write_manifest();
    f.write_generations(&[]);
    f
}

/// The next release, built over `previous`'s output: a new page and stylesheet,
/// `about.html` and the big file gone, the previous generation kept.
fn next(previous: &Fixture, page: &str) -> Fixture {
    let mut f = Fixture::new();
    copy_tree(previous.root(), f.root());
    f.manifest = previous.manifest.clone();
    f.manifest.entries.remove("about.html");
    f.manifest.entries.remove("media/big.bin");
    let _ = std::fs::remove_file(f.root().join("about.html"));
    f.add("index.html", page.as_bytes(), false);
    f.add("css/app.css", format!("/* {page} */\n").as_bytes(), true);
    f.add_variants("css/app.css", &["gzip"]);
    f.write_manifest();
    f.write_generations(&[&previous.manifest]);
    f
}

/// A served root that releases are swapped into, as a deploy would: the new tree is
/// written beside it and renamed into place, and the old tree deleted at once.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("build")
    }

    fn deploy(&self, release: &Fixture) {
        let next = self.dir.path().join(".next");
        let previous = self.dir.path().join(".previous");
        copy_tree(release.root(), &next);
        if self.path().exists() {
            std::fs::rename(self.path(), &previous).unwrap();
        }
        std::fs::rename(&next, self.path()).unwrap();
        if previous.exists() {
            std::fs::remove_dir_all(&previous).unwrap();
        }
    }
}

fn start(root: &Path) -> (Mount, InProcess) {
    let mount = Mount::new("/", Build::open(root, &Options::default()).unwrap());
    let server = InProcess::start_mount(mount.clone());
    (mount, server)
}

#[test]
fn older_generations_fingerprinted_files_are_served_entry_points_from_the_newest() {
    let a = v1();
    let b = next(&a, "<!doctype html><title>release b</title>\n");
    let build = Build::open(b.root(), &Options::default()).unwrap();
    assert_eq!(build.generation(), b.generation_id());
    assert_eq!(build.older_generations(), [a.generation_id()]);
    // The previous stylesheet and the big file the new build dropped.
    assert_eq!(build.older_urls(), 2);
    let s = InProcess::start(b.root(), &Options::default());

    let old_css = a.entry("css/app.css");
    let r = s.get(&format!("/{}", old_css.path));
    r.check_common();
    assert_eq!(r.status, 200);
    assert_eq!(r.h("cache-control"), IMMUTABLE);
    assert_eq!(r.h("etag"), old_css.etag);
    assert_eq!(r.body, b"body { color: red }\n");
    // Its variants are negotiated as before, with their own validators.
    let r = s.get_with(&format!("/{}", old_css.path), &[("accept-encoding", "br")]);
    assert_eq!(
        (r.h("content-encoding"), r.h("etag"), r.h("vary")),
        (
            "br",
            old_css.variants["br"].etag.as_str(),
            "Accept-Encoding"
        )
    );
    let r = s.get_with(
        &format!("/{}", old_css.path),
        &[
            ("accept-encoding", "gzip"),
            ("if-none-match", &old_css.variants["gzip"].etag),
        ],
    );
    assert_eq!(r.status, 304);

    // Entry points and logical paths are the newest build's.
    assert_eq!(
        s.get("/").text(),
        "<!doctype html><title>release b</title>\n"
    );
    assert_eq!(
        s.get("/css/app.css").text(),
        "/* <!doctype html><title>release b</title>\n */\n"
    );
    assert_eq!(s.get("/css/app.css").h("cache-control"), "no-cache");
    assert_eq!(
        s.get("/about.html").status,
        404,
        "gone from the newest build"
    );
    assert_eq!(
        s.get(&format!("/{}", a.entry("media/big.bin").path)).status,
        200,
        "a fingerprinted file of the previous generation"
    );
    assert_eq!(s.get("/.assetc/generations.json").status, 404);
}

#[test]
fn problems_with_older_generations_are_logged_never_fatal() {
    let a = v1();
    let b = next(&a, "<!doctype html><title>b</title>\n");
    let old_css = a.entry("css/app.css").path.clone();
    let old_big = a.entry("media/big.bin").path.clone();
    std::fs::remove_file(b.root().join(&old_css)).unwrap();
    let s = InProcess::start(b.root(), &Options::default());
    // Checked at its first request, as every fingerprinted file is: 503, never served.
    assert_eq!(s.get(&format!("/{old_css}")).status, 503);
    assert_eq!(
        s.get(&format!("/{old_big}")).status,
        200,
        "the rest is served"
    );
    assert_eq!(s.get("/").status, 200);
    // A reload checks every file and logs the missing one, which keeps its route and the
    // same answer: the manifest lists it, so it is a fault here (503), not a 404 to cache.
    let reloaded = Build::open(b.root(), &Options::default())
        .unwrap()
        .reopen()
        .unwrap();
    let s = InProcess::start_mount(Mount::new("/", reloaded));
    assert_eq!(s.get(&format!("/{old_css}")).status, 503);
    assert_eq!(s.get(&format!("/{old_big}")).status, 200);

    // An unreadable generation manifest, an id that is no fingerprint, a broken record.
    let c = next(&a, "<!doctype html><title>c</title>\n");
    std::fs::write(
        c.root()
            .join(assetc_core::generations::generation_manifest_path(
                &a.generation_id(),
            )),
        "{",
    )
    .unwrap();
    let build = Build::open(c.root(), &Options::default()).unwrap();
    assert!(build.older_generations().is_empty());
    let record = c.root().join(assetc_core::generations::GENERATIONS_FILE);
    let text = std::fs::read_to_string(&record)
        .unwrap()
        .replace(&a.generation_id(), "../../../etc/passwd");
    std::fs::write(&record, text).unwrap();
    assert!(Build::open(c.root(), &Options::default())
        .unwrap()
        .older_generations()
        .is_empty());
    std::fs::write(&record, "not json").unwrap();
    assert_eq!(
        Build::open(c.root(), &Options::default())
            .unwrap()
            .generation(),
        c.generation_id()
    );
}

#[test]
fn a_reload_swaps_builds_and_in_flight_responses_finish_on_the_old_one() {
    let mut a = v1();
    // Larger than the socket buffers: the response is still being written when the old
    // tree is deleted.
    let big: Vec<u8> = (0..16_000_000u32).map(|i| (i % 241) as u8).collect();
    let big_path = a.add("media/huge.bin", &big, true);
    a.write_manifest();
    a.write_generations(&[]);
    let root = Root::new();
    root.deploy(&a);
    let (mount, s) = start(&root.path());
    assert_eq!(mount.build().generation(), a.generation_id());

    let in_flight = s.start_get(&format!("/{big_path}"));

    // The next release drops the file; the old tree is deleted when it is swapped in.
    let mut b = next(&a, "<!doctype html><title>b</title>\n");
    b.manifest.entries.remove("media/huge.bin");
    std::fs::remove_file(b.root().join(&big_path)).unwrap();
    b.write_manifest();
    b.write_generations(&[]);
    root.deploy(&b);
    assert!(!root.dir.path().join(".previous").exists());
    let reloaded = mount.reload().unwrap();
    assert_eq!(
        (reloaded.previous.as_str(), reloaded.generation.as_str()),
        (a.generation_id().as_str(), b.generation_id().as_str())
    );

    // New requests see the new build.
    assert_eq!(s.get("/").text(), "<!doctype html><title>b</title>\n");
    assert_eq!(s.get(&format!("/{big_path}")).status, 404);
    // The request in flight finishes, whole, on the old build.
    let response = in_flight.finish();
    assert_eq!(response.body.len(), big.len(), "the in-flight body was cut");
    assert!(response.body == big);
}

#[test]
fn the_watcher_notices_new_builds_and_refuses_broken_ones() {
    let a = v1();
    let root = Root::new();
    root.deploy(&a);
    let (mount, s) = start(&root.path());
    let watcher = Watcher::start(mount.clone(), Some(Duration::from_millis(10)));

    // A new build swapped in: noticed and served.
    let b = next(&a, "<!doctype html><title>b</title>\n");
    root.deploy(&b);
    let status = watcher.wait_for_attempt(0, TIMEOUT).expect("a reload");
    let reloaded = status.last.unwrap().expect("b loads");
    assert_eq!(reloaded.generation, b.generation_id());
    assert_eq!(reloaded.older_generations, 1);
    // What did not change is shared with the previous build; the new page is read.
    assert!(
        reloaded.reused_bytes > 0 && reloaded.reused_bytes < reloaded.memory_bytes,
        "{reloaded:?}"
    );
    assert_eq!(s.get("/").text(), "<!doctype html><title>b</title>\n");

    // A broken build (its manifest names a missing file) is refused; b keeps serving.
    let c = next(&b, "<!doctype html><title>c</title>\n");
    let missing = c.entry("css/app.css").path.clone();
    std::fs::remove_file(c.root().join(&missing)).unwrap();
    root.deploy(&c);
    let status = watcher.wait_for_attempt(1, TIMEOUT).expect("an attempt");
    let error = status.last.unwrap().expect_err("c is refused");
    assert!(error.contains(&missing), "{error}");
    assert_eq!(mount.build().generation(), b.generation_id());
    assert_eq!(s.get("/").text(), "<!doctype html><title>b</title>\n");
    let b_css = format!("/{}", b.entry("css/app.css").path);
    assert_eq!(s.get(&b_css).status, 200);
    // The refused tree is not tried again on every tick...
    assert!(watcher
        .wait_for_attempt(2, Duration::from_millis(200))
        .is_none());
    // ...but on request.
    watcher.reload();
    let status = watcher.wait_for_attempt(2, TIMEOUT).expect("an attempt");
    assert!(status.last.unwrap().is_err());

    // The fixed build is taken.
    let d = next(&b, "<!doctype html><title>d</title>\n");
    root.deploy(&d);
    let status = watcher.wait_for_attempt(3, TIMEOUT).expect("a reload");
    assert_eq!(status.last.unwrap().unwrap().generation, d.generation_id());
    assert_eq!(s.get("/").text(), "<!doctype html><title>d</title>\n");
    assert_eq!(s.get(&b_css).status, 200, "the previous generation's files");
}

#[test]
fn without_polling_a_reload_happens_on_request_only() {
    let a = v1();
    let root = Root::new();
    root.deploy(&a);
    let (mount, s) = start(&root.path());
    let watcher = Watcher::start(mount.clone(), None);
    let b = next(&a, "<!doctype html><title>b</title>\n");
    root.deploy(&b);
    assert_eq!(watcher.status().attempts, 0);
    watcher.reload();
    let status = watcher.wait_for_attempt(0, TIMEOUT).expect("a reload");
    assert_eq!(status.last.unwrap().unwrap().generation, b.generation_id());
    assert_eq!(s.get("/").text(), "<!doctype html><title>b</title>\n");
    // A reload of the same build changes nothing visible.
    watcher.reload();
    let status = watcher.wait_for_attempt(1, TIMEOUT).expect("a reload");
    let r = status.last.unwrap().unwrap();
    assert_eq!(r.previous, r.generation);
    // Every byte in memory is shared with the build it replaces: nothing read twice.
    assert!(r.memory_bytes > 0);
    assert_eq!(r.reused_bytes, r.memory_bytes);
    assert_eq!(s.get("/").text(), "<!doctype html><title>b</title>\n");

    // Mount::reload on a broken root: an error, and the build in place keeps serving.
    std::fs::remove_file(root.path().join("assetc-manifest.json")).unwrap();
    assert!(mount.reload().is_err());
    assert_eq!(mount.build().generation(), b.generation_id());
    assert_eq!(s.get("/").status, 200);
}

#[test]
fn an_in_place_clean_of_old_generations_is_noticed() {
    let a = v1();
    let b = next(&a, "<!doctype html><title>b</title>\n");
    let root = Root::new();
    root.deploy(&b);
    let (mount, s) = start(&root.path());
    let old_css = format!("/{}", a.entry("css/app.css").path);
    assert_eq!(s.get(&old_css).status, 200);
    let watcher = Watcher::start(mount.clone(), Some(Duration::from_millis(10)));
    // As `assetc clean` does: the record rewritten by a rename, then the files removed.
    let record = root.path().join(assetc_core::generations::GENERATIONS_FILE);
    let text = std::fs::read_to_string(&record).unwrap();
    let mut generations =
        assetc_core::generations::Generations::from_json(text.as_bytes()).unwrap();
    generations.generations.truncate(1);
    let tmp = record.with_extension("tmp");
    std::fs::write(&tmp, generations.to_json()).unwrap();
    std::fs::rename(&tmp, &record).unwrap();
    std::fs::remove_file(root.path().join(&old_css[1..])).unwrap();
    let status = watcher.wait_for_attempt(0, TIMEOUT).expect("a reload");
    let reloaded = status.last.unwrap().unwrap();
    assert_eq!(reloaded.generation, b.generation_id());
    assert_eq!(reloaded.older_generations, 0);
    assert_eq!(s.get(&old_css).status, 404);
    assert_eq!(s.get("/").status, 200);
}
