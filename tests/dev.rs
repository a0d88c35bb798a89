//! `assetc dev` end to end: the real binary on a temp tree, a real socket, real edits.

use std::io::{Read, Write};
use std::time::Instant;

use crate::common::http::Http;
use crate::common::server::Server;
use crate::common::{Tree, TIMEOUT};

/// `assetc dev` on `t` plus `extra`, on 127.0.0.1:0.
fn dev(t: &Tree, extra: &[&str]) -> Server {
    Server::dev(t.root()).args(extra).start()
}

/// The next `rebuilt in …` line on stderr: a rebuild was swapped in (the server serves it
/// before the line is printed).
fn rebuilt(dev: &Server) -> String {
    dev.wait_for_stderr(|l| l.starts_with("rebuilt in"))
}

/// Waits for rebuilds until `path` serves a body that `ready` accepts (an edit may take a
/// rebuild or two to land whole: a write can be seen half done).
fn after_rebuilds(dev: &Server, path: &str, ready: impl Fn(&str) -> bool) -> String {
    for _ in 0..3 {
        rebuilt(dev);
        let body = dev.get(path).text();
        if ready(&body) {
            return body;
        }
    }
    panic!(
        "`{path}` not as expected after 3 rebuilds: {}\nstderr: {:#?}",
        dev.get(path).text(),
        dev.stderr()
    );
}

fn css_url(page: &str) -> String {
    let start = page.find("href=\"css/").expect("a stylesheet link") + 6;
    page[start..].split('"').next().unwrap().to_owned()
}

fn site() -> Tree {
    let t = Tree::new();
    t.file("index.html", "<!doctype html><html><head><link rel=\"stylesheet\" href=\"css/site.css\"></head><body><img src=\"img/a.png\"><p>hi</p></body></html>")
        .file("css/site.css", "body { color: black }")
        .file("img/a.png", "png");
    t
}

#[test]
fn a_change_shows_up_as_a_new_fingerprinted_url_and_every_response_is_no_store() {
    let t = site();
    let dev = dev(&t, &[]);
    let r = dev.get("/");
    assert_eq!(r.status, 200);
    let page = r.text();
    assert!(
        page.contains(
            "<script src=\"/__assetc/live.js\" data-events=\"/__assetc/events\"></script></head>"
        ),
        "the live-reload script is injected: {page}"
    );
    let first = css_url(&page);
    assert_eq!(r.h("cache-control"), "no-store");
    for (path, status) in [
        (format!("/{first}"), 200),
        ("/css/site.css".into(), 200),
        ("/missing.png".into(), 404),
        ("/__assetc/live.js".into(), 200),
    ] {
        let r = dev.get(&path);
        assert_eq!(
            (r.status, r.header("cache-control")),
            (status, Some("no-store")),
            "{path}"
        );
    }
    assert!(!t.root().join("build").exists(), "dev never writes build/");

    t.file("css/site.css", "body { color: red }");
    let page = after_rebuilds(&dev, "/", |p| css_url(p) != first);
    let second = css_url(&page);
    assert_eq!(dev.get(&format!("/{second}")).text(), "body { color: red }");
    // The fingerprinted names are the ones a production build gives.
    t.build(&[]).success();
    assert_eq!(
        format!(
            "css/{}",
            t.served("css/site.css").rsplit('/').next().unwrap()
        ),
        second
    );
    assert!(
        !t.read("index.html").contains("__assetc"),
        "production builds never get the script"
    );
}

/// Eleven files written at once are one rebuild: the first rebuild after them has every
/// one of them, and the next one is a later edit's, so no second rebuild of the burst came
/// in between.
#[test]
fn a_burst_of_changes_is_one_rebuild() {
    let t = site();
    let dev = dev(&t, &[]);
    for i in 0..10 {
        t.file(&format!("css/extra{i}.css"), format!(".x{i} {{}}"));
    }
    t.file("css/site.css", "body { color: blue }");
    let burst = rebuilt(&dev);
    // The site's 3 files and the 10 new ones.
    assert!(burst.contains("(13 files, "), "{burst}");
    assert_eq!(dev.get("/css/site.css").text(), "body { color: blue }");
    assert_eq!(dev.get("/css/extra9.css").text(), ".x9 {}");

    t.file("marker.txt", "after the burst");
    let next = rebuilt(&dev);
    assert!(
        next.contains("(14 files, "),
        "the rebuild after the burst's is not the marker's: {next}\nstderr: {:#?}",
        dev.stderr()
    );
    assert_eq!(dev.get("/marker.txt").text(), "after the burst");
}

#[test]
fn a_broken_build_keeps_the_last_good_one_and_reports_the_error() {
    let t = site();
    let dev = dev(&t, &["--strict"]);
    let good = dev.get("/").text();
    // Listen for events before breaking the build.
    let mut events = dev.connect();
    write!(events, "GET /__assetc/events HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("retry:") {
        let n = events.read(&mut buf).unwrap();
        assert!(n > 0, "event stream closed");
        seen.extend_from_slice(&buf[..n]);
    }

    t.file(
        "index.html",
        "<link rel=\"stylesheet\" href=\"css/site.css\"><img src=\"img/missing.png\">",
    );
    // The error names the missing file, on the same line or one of those after it.
    let failed = dev.wait_for_stderr(|l| l.contains("rebuild failed"));
    if !failed.contains("missing.png") {
        dev.wait_for_stderr(|l| l.contains("missing.png"));
    }
    let r = dev.get("/");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), good, "the last good build is still served");
    let started = Instant::now();
    while !String::from_utf8_lossy(&seen).contains("\"type\":\"error\"") {
        assert!(
            started.elapsed() < TIMEOUT,
            "no error event: {}",
            String::from_utf8_lossy(&seen)
        );
        let n = events.read(&mut buf).unwrap();
        assert!(n > 0, "event stream closed");
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&seen).contains("missing.png"));

    // The next good build clears it.
    t.file(
        "index.html",
        "<link rel=\"stylesheet\" href=\"css/site.css\"><p>fixed</p>",
    );
    after_rebuilds(&dev, "/", |p| p.contains("fixed"));
}
