//! `assetc dev` end to end: the real binary on a temp tree, a real socket, real edits.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{assetc, Tree};

/// A running `assetc dev`, its stderr collected line by line.
struct Dev {
    child: Child,
    addr: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Dev {
    fn start(t: &Tree, extra: &[&str]) -> Self {
        let mut child = assetc()
            .current_dir(t.root())
            .args([
                "dev",
                "--input",
                "assets",
                "--bind",
                "127.0.0.1:0",
                "--output",
            ])
            .arg(t.root().join("dev-build"))
            .args(extra)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let mut dev = Self {
            child,
            addr: String::new(),
            lines,
        };
        let line = dev.wait_for_line("listening on http://", Duration::from_secs(30));
        dev.addr = line.trim_start_matches("listening on http://").to_owned();
        dev
    }

    fn wait_for_line(&self, needle: &str, limit: Duration) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return line.clone();
            }
            assert!(
                started.elapsed() < limit,
                "no `{needle}` within {limit:?}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    fn stderr(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// A GET: (status line, headers lowercased, body).
    fn get(&self, path: &str) -> (String, String, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
        (
            status.to_owned(),
            headers.to_ascii_lowercase(),
            body.to_owned(),
        )
    }

    /// Polls `path` until its body satisfies `ready`, within a bound.
    fn poll(&self, path: &str, limit: Duration, ready: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let (_, _, body) = self.get(path);
            if ready(&body) {
                return body;
            }
            assert!(
                started.elapsed() < limit,
                "`{path}` not ready within {limit:?}: {body}\nstderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let dev = Dev::start(&t, &[]);
    let (status, headers, page) = dev.get("/");
    assert!(status.contains("200"), "{status}");
    assert!(
        page.contains(
            "<script src=\"/__assetc/live.js\" data-events=\"/__assetc/events\"></script></head>"
        ),
        "the live-reload script is injected: {page}"
    );
    let first = css_url(&page);
    assert!(headers.contains("cache-control: no-store"), "{headers}");
    for path in [
        format!("/{first}"),
        "/css/site.css".into(),
        "/missing.png".into(),
        "/__assetc/live.js".into(),
    ] {
        let (status, headers, _) = dev.get(&path);
        assert!(
            headers.contains("cache-control: no-store"),
            "{path}: {status}\n{headers}"
        );
    }
    assert!(!t.root().join("build").exists(), "dev never writes build/");

    t.file("css/site.css", "body { color: red }");
    let page = dev.poll("/", Duration::from_secs(20), |p| css_url(p) != first);
    let second = css_url(&page);
    let (_, _, css) = dev.get(&format!("/{second}"));
    assert_eq!(css, "body { color: red }");
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

#[test]
fn a_burst_of_changes_is_one_rebuild() {
    let t = site();
    let dev = Dev::start(&t, &[]);
    let before = dev.count("rebuilt in");
    for i in 0..10 {
        t.file(&format!("css/extra{i}.css"), format!(".x{i} {{}}"));
    }
    t.file("css/site.css", "body { color: blue }");
    dev.wait_for_line("rebuilt in", Duration::from_secs(20));
    // Give a second rebuild, if there were to be one, time to happen.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        dev.count("rebuilt in") - before,
        1,
        "stderr:\n{}",
        dev.stderr()
    );
}

#[test]
fn a_broken_build_keeps_the_last_good_one_and_reports_the_error() {
    let t = site();
    let dev = Dev::start(&t, &["--strict"]);
    let (_, _, good) = dev.get("/");
    // Listen for events before breaking the build.
    let mut events = TcpStream::connect(&dev.addr).unwrap();
    events
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
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
    dev.wait_for_line("rebuild failed", Duration::from_secs(20));
    assert!(dev.stderr().contains("missing.png"), "{}", dev.stderr());
    let (status, _, page) = dev.get("/");
    assert!(status.contains("200"));
    assert_eq!(page, good, "the last good build is still served");
    let started = Instant::now();
    while !String::from_utf8_lossy(&seen).contains("\"type\":\"error\"") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
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
    dev.poll("/", Duration::from_secs(20), |p| p.contains("fixed"));
}
