//! `assetc serve` end to end: a fixture built by the real `assetc build`, served by the real
//! binary on 127.0.0.1:0, spoken to with real `curl` and with raw HTTP/1.1 for the targets
//! clients would normalise.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::{assetc, Tree};

/// Bounds every wait in this module.
const TIMEOUT: Duration = Duration::from_secs(20);

/// A running `assetc serve`, killed on drop.
struct Serve {
    child: Child,
    addr: String,
    stdout: mpsc::Receiver<String>,
}

impl Serve {
    /// Starts `assetc serve --bind 127.0.0.1:0` plus `args` in `dir` and waits for its
    /// `listening on` line.
    fn start(dir: &Path, args: &[&str]) -> Self {
        Self::start_env(dir, args, &[])
    }

    fn start_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = assetc();
        cmd.current_dir(dir)
            .arg("serve")
            .args(args)
            .env_remove("PORT");
        if !args.contains(&"--bind") && env.iter().all(|(k, _)| *k != "PORT") {
            cmd.args(["--bind", "127.0.0.1:0"]);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run assetc serve");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let (out_tx, stdout) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = out_tx.send(line);
            }
        });
        let mut seen = Vec::new();
        let addr = loop {
            match rx.recv_timeout(TIMEOUT) {
                Ok(line) => match line.strip_prefix("listening on http://") {
                    Some(addr) => break addr.to_owned(),
                    None => seen.push(line),
                },
                Err(_) => {
                    let _ = child.kill();
                    panic!("no `listening on` line; stderr: {seen:?}");
                }
            }
        };
        Self {
            child,
            addr,
            stdout,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `curl -sI` plus `args`: status and headers (names lowercased).
    fn curl_head(&self, path: &str, args: &[&str]) -> (u16, Vec<(String, String)>) {
        let out = Command::new("curl")
            .args(["-sS", "-I", "--max-time", "10"])
            .args(args)
            .arg(self.url(path))
            .output()
            .expect("run curl");
        assert!(
            out.status.success(),
            "curl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse_head(&String::from_utf8_lossy(&out.stdout))
    }

    /// `curl -s` plus `args`: the body.
    fn curl_body(&self, path: &str, args: &[&str]) -> Vec<u8> {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10"])
            .args(args)
            .arg(self.url(path))
            .output()
            .expect("run curl");
        assert!(
            out.status.success(),
            "curl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Sends raw bytes and returns the status code of the answer.
    fn raw_status(&self, request: &[u8]) -> u16 {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.write_all(request).unwrap();
        let mut buf = Vec::new();
        let _ = stream.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        text.split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {text:?}"))
    }

    fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit.
    fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "assetc serve did not exit"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_head(text: &str) -> (u16, Vec<(String, String)>) {
    let mut lines = text.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A small site built with the real `assetc build`.
fn built_site() -> Tree {
    let tree = Tree::new();
    tree.file(
        "index.html",
        "<!doctype html><link rel=stylesheet href=\"css/site.css\"><script src=\"js/app.js\"></script><h1>home</h1>\n",
    )
    .file("css/site.css", "body { background: url(../img/dot.png) }\n")
    .file("js/app.js", "console.log('app');\n")
    .file("img/dot.png", b"\x89PNG\r\n\x1a\n fake png")
    .file("docs/index.html", "<!doctype html><h1>docs</h1>\n")
    .file("404.html", "<!doctype html><h1>not here</h1>\n");
    tree.build(&[]).success();
    tree
}

#[test]
fn the_classic_manual_check_with_curl() {
    let tree = built_site();
    let serve = Serve::start(tree.root(), &[]);
    // `curl -I` the page, take its ETag, send it back: 304.
    let (status, headers) = serve.curl_head("/", &[]);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    let etag = header(&headers, "etag").expect("ETag").to_owned();
    let last_modified = header(&headers, "last-modified")
        .expect("Last-Modified")
        .to_owned();
    assert_eq!(
        Some(etag.as_str()),
        tree.manifest()["entries"]["index.html"]["etag"].as_str()
    );
    let (status, h304) = serve.curl_head("/", &["-H", &format!("If-None-Match: {etag}")]);
    assert_eq!(status, 304);
    assert_eq!(header(&h304, "etag"), Some(etag.as_str()));
    assert_eq!(header(&h304, "cache-control"), Some("no-cache"));
    assert!(header(&h304, "content-type").is_none() && header(&h304, "content-length").is_none());
    // The same with If-Modified-Since and the Last-Modified value.
    let (status, _) = serve.curl_head("/", &["-H", &format!("If-Modified-Since: {last_modified}")]);
    assert_eq!(status, 304);
    let (status, _) = serve.curl_head(
        "/",
        &["-H", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"],
    );
    assert_eq!(status, 200);
}

#[test]
fn fingerprinted_assets_are_immutable_and_referenced_from_the_page() {
    let tree = built_site();
    let serve = Serve::start(tree.root(), &[]);
    let page = String::from_utf8(serve.curl_body("/", &[])).unwrap();
    let css = tree.served("css/site.css");
    assert!(page.contains(&css), "{page}");
    let (status, headers) = serve.curl_head(&format!("/{css}"), &[]);
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(header(&headers, "accept-ranges"), Some("bytes"));
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
    assert!(header(&headers, "date").is_some());
    // The logical path still works, revalidated.
    let (status, headers) = serve.curl_head("/css/site.css", &[]);
    assert_eq!(
        (status, header(&headers, "cache-control")),
        (200, Some("no-cache"))
    );
    // A range with curl.
    let body = serve.curl_body(&format!("/{css}"), &["-r", "0-3"]);
    assert_eq!(body, b"body");
    // Directory index and its redirect; a 404 with the build's page.
    assert!(String::from_utf8(serve.curl_body("/docs/", &[]))
        .unwrap()
        .contains("docs"));
    let (status, headers) = serve.curl_head("/docs", &[]);
    assert_eq!(
        (status, header(&headers, "location")),
        (308, Some("./docs/"))
    );
    let (status, headers) = serve.curl_head("/missing.js", &[]);
    assert_eq!(
        (status, header(&headers, "cache-control")),
        (404, Some("no-store"))
    );
    assert!(String::from_utf8(serve.curl_body("/missing.js", &[]))
        .unwrap()
        .contains("not here"));
    let (status, headers) = serve.curl_head("/", &["-X", "POST"]);
    assert_eq!(
        (status, header(&headers, "allow")),
        (405, Some("GET, HEAD"))
    );
}

#[test]
fn two_servers_on_copies_of_one_build_agree_on_validators() {
    let tree = built_site();
    let copy = tree.root().join("copy");
    std::fs::create_dir(&copy).unwrap();
    // `cp -r` writes new files: other inodes, and (after a second) other mtimes.
    let before = std::fs::metadata(tree.output().join("index.html"))
        .unwrap()
        .modified()
        .unwrap();
    while std::time::SystemTime::now()
        .duration_since(before)
        .unwrap_or_default()
        < Duration::from_millis(1100)
    {
        std::thread::yield_now();
    }
    let status = Command::new("cp")
        .arg("-r")
        .arg(tree.output())
        .arg(copy.join("build"))
        .status()
        .unwrap();
    assert!(status.success());
    let a = Serve::start(tree.root(), &[]);
    let b = Serve::start(tree.root(), &["--root", "copy/build"]);
    for path in [
        "/".to_owned(),
        format!("/{}", tree.served("js/app.js")),
        "/docs/".to_owned(),
    ] {
        let (_, ha) = a.curl_head(&path, &[]);
        let (_, hb) = b.curl_head(&path, &[]);
        assert_eq!(header(&ha, "etag"), header(&hb, "etag"), "{path}");
        assert_eq!(
            header(&ha, "last-modified"),
            header(&hb, "last-modified"),
            "{path}"
        );
        let etag = header(&ha, "etag").unwrap();
        let (status, _) = b.curl_head(&path, &["-H", &format!("If-None-Match: {etag}")]);
        assert_eq!(status, 304, "{path}");
    }
}

#[test]
fn hostile_targets_against_the_binary_are_400_or_404() {
    let tree = built_site();
    std::fs::write(tree.root().join("secret.txt"), "top secret").unwrap();
    let serve = Serve::start(tree.root(), &[]);
    let targets = [
        "/../secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%2e./secret.txt",
        "/css/../../secret.txt",
        "/css/..%5c..%5csecret.txt",
        "/%252e%252e/secret.txt",
        "/%%32%65%%32%65/secret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "/%c0%af",
        "/%e0%80%ae%e0%80%ae/secret.txt",
        "/..\\secret.txt",
        "/%5c..%5csecret.txt",
        "/index.html%00",
        "/index.html%00.css",
        "/%00",
        "/a%0d%0aX:%20y",
        "/a%0a",
        "/a%09",
        "/a%7f",
        "/%ff",
        "/%80",
        "/%ed%a0%80",
        "/.env",
        "/.git/HEAD",
        "/.assetc/generations.json",
        "/.DS_Store",
        "/%2eenv",
        "/CON",
        "/con.html",
        "/NUL",
        "/nul.txt",
        "/AUX",
        "/PRN.css",
        "/COM1",
        "/lpt1.txt",
        "/C:/Windows/win.ini",
        "/c:%5cwindows",
        "/index.html::$DATA",
        "/index.html:x",
        "/index.html.",
        "/index.html%20",
        "/%2findex.html",
        "//secret.txt",
        "/index.html/..",
        "/%",
        "/%2",
        "/%zz",
        "/a%2fb",
        "/docs/%2e%2e/../secret.txt",
        "/assetc-manifest.json/../secret.txt",
        "/secret.txt",
    ];
    assert!(targets.len() >= 50);
    for target in targets {
        let status = serve.raw_status(
            format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert!(status == 400 || status == 404, "{target}: {status}");
        let body = serve.curl_body(target, &["--path-as-is"]);
        assert!(
            !String::from_utf8_lossy(&body).contains("top secret"),
            "{target}"
        );
    }
    for target in ["../secret.txt", "*", "secret.txt"] {
        let status = serve.raw_status(
            format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert!(status == 400 || status == 404, "{target}: {status}");
    }
    let (status, _) = serve.curl_head("/", &[]);
    assert_eq!(status, 200, "still serving");
}

#[test]
fn sigterm_lets_an_in_flight_response_finish() {
    let tree = Tree::new();
    let big: Vec<u8> = (0..24_000_000u32).map(|i| (i % 253) as u8).collect();
    tree.file("index.html", "<!doctype html>\n")
        .file("big.bin", &big);
    // `application/octet-stream`: not compressed by the build, so it stays quick.
    tree.build(&[]).success();
    let big_url = format!("/{}", tree.served("big.bin"));
    let mut serve = Serve::start(tree.root(), &["--workers", "1"]);
    let mut stream = TcpStream::connect(&serve.addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
        .write_all(
            format!("GET {big_url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    // Read the head and a little of the body: the response is in flight.
    let mut first = vec![0u8; 4096];
    let n = stream.read(&mut first).unwrap();
    assert!(n > 0 && first.starts_with(b"HTTP/1.1 200"));
    serve.terminate();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    let mut all = first[..n].to_vec();
    all.extend(rest);
    let head_end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(
        all.len() - head_end,
        big.len(),
        "the in-flight body was cut"
    );
    assert!(all[head_end..] == big[..]);
    let status = serve.wait();
    assert!(status.success(), "exit {status:?}");
}

#[test]
fn access_log_json_and_config_table() {
    let tree = built_site();
    std::fs::write(
        tree.root().join("assetc.toml"),
        "[serve]\nhealth_path = \"/healthz\"\naccess_log = \"common\"\ncache_control_revalidate = \"no-cache, s-maxage=5\"\n\n[[serve.headers]]\npath = \"/**\"\nheaders = { \"Content-Security-Policy\" = \"default-src 'self'\" }\n",
    )
    .unwrap();
    // The flag wins over the config's `common`.
    let serve = Serve::start(tree.root(), &["--access-log", "json"]);
    let (status, headers) = serve.curl_head("/healthz", &[]);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    let (_, headers) = serve.curl_head("/", &["-A", "e2e-agent"]);
    assert_eq!(
        header(&headers, "cache-control"),
        Some("no-cache, s-maxage=5")
    );
    assert_eq!(
        header(&headers, "content-security-policy"),
        Some("default-src 'self'")
    );
    let mut lines = Vec::new();
    while lines.len() < 2 {
        lines.push(
            serve
                .stdout
                .recv_timeout(TIMEOUT)
                .expect("an access log line"),
        );
    }
    let entry: serde_json::Value =
        serde_json::from_str(&lines[1]).unwrap_or_else(|e| panic!("{e}: {:?}", lines[1]));
    assert_eq!(entry["method"], "HEAD");
    assert_eq!(entry["target"], "/");
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["user_agent"], "e2e-agent");
}

#[test]
fn port_environment_variable_is_honoured() {
    let tree = built_site();
    let serve = Serve::start_env(tree.root(), &[], &[("PORT", "0")]);
    assert!(serve.addr.starts_with("0.0.0.0:"), "{}", serve.addr);
    let port = serve.addr.rsplit(':').next().unwrap();
    let out = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "10",
        ])
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
}

#[test]
fn a_broken_build_fails_at_start_up_with_a_clear_error() {
    let tree = Tree::new();
    let run = |args: &[&str]| {
        assetc()
            .current_dir(tree.root())
            .arg("serve")
            .args(args)
            .args(["--bind", "127.0.0.1:0"])
            .output()
            .unwrap()
    };
    let out = run(&["--root", "nowhere"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ")
            && err.contains("`nowhere`")
            && err.contains("cannot read the build root"),
        "{err}"
    );

    tree.file("index.html", "<!doctype html>\n")
        .file("app.js", "1;\n");
    tree.build(&[]).success();
    let served = tree.served("app.js");
    std::fs::write(tree.output().join(&served), "changed;\n").unwrap();
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&served) && err.contains("bytes but the manifest says"),
        "{err}"
    );

    std::fs::remove_file(tree.output().join("assetc-manifest.json")).unwrap();
    let out = run(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(1) && err.contains("assetc-manifest.json"),
        "{err}"
    );
}
