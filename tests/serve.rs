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
    /// Diagnostics after the `listening on` line (reloads, refused builds).
    stderr: mpsc::Receiver<String>,
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
            stderr: rx,
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

// ---- Precompressed variants, kept generations and reloads (issues 5 and 6) ----

impl Serve {
    /// Waits (bounded) for a diagnostics line that `wanted` accepts and returns it.
    fn wait_for_stderr(&self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(line) => seen.push(line),
                Err(_) => panic!("no such line on stderr; saw {seen:?}"),
            }
        }
    }

    /// `curl -s` GET plus `args`: status and headers (names lowercased), body discarded.
    fn curl_get_head(&self, path: &str, args: &[&str]) -> (u16, Vec<(String, String)>) {
        let out = Command::new("curl")
            .args(["-sS", "-D", "-", "-o", "/dev/null", "--max-time", "10"])
            .args(args)
            .arg(self.url(path))
            .output()
            .expect("run curl");
        assert!(out.status.success(), "curl failed");
        parse_head(&String::from_utf8_lossy(&out.stdout))
    }

    fn sighup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// A GET over a fresh connection: status and body, or what went wrong.
fn fetch(
    addr: &str,
    target: &str,
    accept_encoding: Option<&str>,
) -> Result<(u16, Vec<u8>), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let ae = accept_encoding.map_or_else(String::new, |v| format!("Accept-Encoding: {v}\r\n"));
    stream
        .write_all(
            format!("GET {target} HTTP/1.1\r\nHost: x\r\n{ae}Connection: close\r\n\r\n").as_bytes(),
        )
        .map_err(|e| format!("write: {e}"))?;
    let mut buf = Vec::new();
    stream
        .read_to_end(&mut buf)
        .map_err(|e| format!("read: {e}"))?;
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no header block in {:?}", String::from_utf8_lossy(&buf)))?;
    let head = String::from_utf8_lossy(&buf[..end]);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    let length: Option<usize> = head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    });
    let body = buf[end + 4..].to_vec();
    if length.is_some_and(|n| n != body.len()) {
        return Err(format!(
            "{target}: body of {} bytes, Content-Length {length:?}",
            body.len()
        ));
    }
    Ok((status, body))
}

/// The root-relative URLs a page or stylesheet at `base` (a directory URL such as `/` or
/// `/css/`) references with `href="…"`, `src="…"` and `url(…)`.
fn references(text: &str, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["href=\"", "src=\"", "url("] {
        for piece in text.split(marker).skip(1) {
            let end = piece.find(['"', ')', '\'']).unwrap_or(piece.len());
            let reference = piece[..end].trim_matches(['"', '\'']);
            let reference = reference.split(['?', '#']).next().unwrap_or_default();
            if reference.is_empty() || reference.contains(':') || reference.starts_with("//") {
                continue;
            }
            let joined = if reference.starts_with('/') {
                reference.to_owned()
            } else {
                format!("{base}{reference}")
            };
            let mut segments: Vec<&str> = Vec::new();
            for segment in joined.split('/').skip(1) {
                match segment {
                    ".." => {
                        segments.pop();
                    }
                    "." => {}
                    s => segments.push(s),
                }
            }
            out.push(format!("/{}", segments.join("/")));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The assets a page references, and the ones its stylesheets reference, from `addr`.
fn page_assets(addr: &str, page: &str) -> Vec<String> {
    let mut assets = references(page, "/");
    for css in assets.clone().iter().filter(|u| u.ends_with(".css")) {
        if let Ok((200, body)) = fetch(addr, css, None) {
            let dir = &css[..=css.rfind('/').unwrap()];
            assets.extend(references(&String::from_utf8_lossy(&body), dir));
        }
    }
    assets.sort();
    assets.dedup();
    assets
}

/// Release `v` of a site whose stylesheet, script and page are large enough for variants.
fn write_release(tree: &Tree, v: u32) {
    let rules: String = (0..80)
        .map(|i| {
            format!(
                ".c{i} {{ margin: {i}px; padding: {}px; color: #{:06x} }}\n",
                i * v,
                i * 997
            )
        })
        .collect();
    let script: String = (0..60)
        .map(|i| format!("export const value{i} = {} * {i};\n", v))
        .collect();
    tree.file(
        "index.html",
        format!(
            "<!doctype html><link rel=stylesheet href=\"css/site.css\"><script type=module src=\"js/app.js\"></script><img src=\"img/dot.png\"><h1>release {v}</h1>\n{}",
            "<p>some words for the page to be worth compressing</p>\n".repeat(30)
        ),
    )
    .file("css/site.css", format!("/* release {v} */\nbody {{ background: url(../img/dot.png) }}\n{rules}"))
    .file("js/app.js", format!("// release {v}\n{script}"))
    .file("img/dot.png", b"\x89PNG\r\n\x1a\n fake png")
    .file("404.html", "<!doctype html><h1>not here</h1>\n");
}

/// The id of the newest generation in the build at `dir` (relative to the tree).
fn newest_generation(tree: &Tree, dir: &str) -> String {
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(tree.root().join(dir).join(".assetc/generations.json")).unwrap(),
    )
    .unwrap();
    record["generations"][0]["id"].as_str().unwrap().to_owned()
}

fn decode(coding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .unwrap();
        }
        "br" => {
            brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
        }
        "zstd" => out = zstd::decode_all(bytes).unwrap(),
        other => panic!("{other}"),
    }
    out
}

#[test]
fn precompressed_variants_are_negotiated_with_curl() {
    let tree = Tree::new();
    write_release(&tree, 1);
    tree.build(&[]).success();
    let serve = Serve::start(tree.root(), &[]);
    let manifest = tree.manifest();
    let entry = &manifest["entries"]["css/site.css"];
    let url = format!("/{}", entry["path"].as_str().unwrap());
    let identity = std::fs::read(tree.output().join(entry["path"].as_str().unwrap())).unwrap();
    assert_eq!(
        entry["variants"].as_object().unwrap().len(),
        3,
        "br, zstd and gzip variants: {entry}"
    );

    // Identity: no Content-Encoding, but Vary all the same.
    let (status, h) = serve.curl_head(&url, &[]);
    assert_eq!(status, 200);
    assert_eq!(header(&h, "vary"), Some("Accept-Encoding"));
    assert_eq!(header(&h, "content-encoding"), None);
    assert_eq!(header(&h, "etag"), entry["etag"].as_str());
    // curl's own `--compressed` list takes the server's preference: br.
    let (_, h) = serve.curl_get_head(&url, &["--compressed"]);
    assert_eq!(header(&h, "content-encoding"), Some("br"));

    for coding in ["br", "zstd", "gzip"] {
        let variant = &entry["variants"][coding];
        let ae = format!("Accept-Encoding: {coding}");
        // HEAD: the variant's headers.
        let (status, h) = serve.curl_head(&url, &["-H", &ae]);
        assert_eq!(status, 200, "{coding}");
        assert_eq!(header(&h, "content-encoding"), Some(coding));
        assert_eq!(header(&h, "etag"), variant["etag"].as_str());
        assert_eq!(
            header(&h, "content-length"),
            Some(variant["size"].to_string().as_str())
        );
        assert_eq!(header(&h, "content-type"), Some("text/css; charset=utf-8"));
        assert_eq!(header(&h, "vary"), Some("Accept-Encoding"));
        assert_eq!(
            header(&h, "cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        // curl decodes it to the identity bytes.
        assert_eq!(
            serve.curl_body(&url, &["--compressed", "-H", &ae]),
            identity,
            "{coding}"
        );
        // The raw bytes are the variant file, which decodes to the identity.
        let raw = serve.curl_body(&url, &["-H", &ae]);
        assert_eq!(
            raw,
            std::fs::read(tree.output().join(variant["path"].as_str().unwrap())).unwrap()
        );
        assert_eq!(decode(coding, &raw), identity, "{coding}");
        // 304 with this variant's ETag.
        let inm = format!("If-None-Match: {}", variant["etag"].as_str().unwrap());
        let (status, h) = serve.curl_head(&url, &["-H", &ae, "-H", &inm]);
        assert_eq!(status, 304, "{coding}");
        assert_eq!(header(&h, "etag"), variant["etag"].as_str());
        assert_eq!(header(&h, "vary"), Some("Accept-Encoding"));
        // The identity ETag does not revalidate the variant.
        let inm = format!("If-None-Match: {}", entry["etag"].as_str().unwrap());
        assert_eq!(serve.curl_head(&url, &["-H", &ae, "-H", &inm]).0, 200);
        // Ranges address the encoded bytes; put back together they decode.
        let size = variant["size"].as_u64().unwrap() as usize;
        let (status, h) = serve.curl_get_head(&url, &["-H", &ae, "-r", "0-99"]);
        assert_eq!(status, 206);
        assert_eq!(
            header(&h, "content-range"),
            Some(format!("bytes 0-99/{size}").as_str())
        );
        assert_eq!(header(&h, "content-encoding"), Some(coding));
        assert_eq!(header(&h, "vary"), Some("Accept-Encoding"));
        let mut joined = serve.curl_body(&url, &["-H", &ae, "-r", "0-99"]);
        joined.extend(serve.curl_body(&url, &["-H", &ae, "-r", "100-"]));
        assert_eq!(decode(coding, &joined), identity, "{coding}");
    }
    // Identity refused and nothing else acceptable: 406, with Vary.
    let (status, h) = serve.curl_head(&url, &["-H", "Accept-Encoding: identity;q=0, deflate"]);
    assert_eq!(status, 406);
    assert_eq!(header(&h, "vary"), Some("Accept-Encoding"));
    assert_eq!(header(&h, "cache-control"), Some("no-store"));
    // The page too: negotiated, and decoded by curl to what the build wrote.
    let page = serve.curl_body("/", &["--compressed"]);
    assert_eq!(page, tree.read("index.html").into_bytes());
}

#[test]
fn replicas_agree_on_the_validators_of_every_variant() {
    let tree = Tree::new();
    write_release(&tree, 1);
    tree.build(&[]).success();
    let status = Command::new("cp")
        .arg("-r")
        .arg(tree.output())
        .arg(tree.root().join("copy"))
        .status()
        .unwrap();
    assert!(status.success());
    let a = Serve::start(tree.root(), &["--no-watch"]);
    let b = Serve::start(tree.root(), &["--root", "copy", "--no-watch"]);
    let css = format!("/{}", tree.served("css/site.css"));
    let js = format!("/{}", tree.served("js/app.js"));
    for path in ["/", css.as_str(), js.as_str(), "/css/site.css"] {
        for coding in ["identity", "br", "zstd", "gzip"] {
            let ae = format!("Accept-Encoding: {coding}");
            let (_, ha) = a.curl_head(path, &["-H", &ae]);
            let (_, hb) = b.curl_head(path, &["-H", &ae]);
            for name in [
                "etag",
                "last-modified",
                "content-encoding",
                "content-length",
                "vary",
            ] {
                assert_eq!(
                    header(&ha, name),
                    header(&hb, name),
                    "{path} {coding} {name}"
                );
            }
            let etag = header(&ha, "etag").unwrap();
            let inm = format!("If-None-Match: {etag}");
            let (status, h) = b.curl_head(path, &["-H", &ae, "-H", &inm]);
            assert_eq!(
                (status, header(&h, "etag")),
                (304, Some(etag)),
                "{path} {coding}"
            );
            let (status, _) = a.curl_head(path, &["-H", &ae, "-H", &inm]);
            assert_eq!(status, 304, "{path} {coding}");
        }
    }
}

#[test]
fn a_replica_on_the_new_build_still_serves_the_previous_page_completely() {
    let tree = Tree::new();
    write_release(&tree, 1);
    tree.build(&[]).success();
    // The old replica keeps a copy of release 1; the new one gets release 2, built over it.
    let status = Command::new("cp")
        .arg("-r")
        .arg(tree.output())
        .arg(tree.root().join("old"))
        .status()
        .unwrap();
    assert!(status.success());
    write_release(&tree, 2);
    tree.build(&[]).success();
    let old = Serve::start(tree.root(), &["--root", "old", "--no-watch"]);
    let new = Serve::start(tree.root(), &["--no-watch"]);

    // A page the old replica served loads completely from the new one: same bytes, same
    // validators, for every coding.
    let (_, old_page) = fetch(&old.addr, "/", None).unwrap();
    let old_page = String::from_utf8(old_page).unwrap();
    assert!(old_page.contains("release 1"));
    let assets = page_assets(&old.addr, &old_page);
    assert!(assets.len() >= 3, "{assets:?}");
    for url in &assets {
        for coding in [None, Some("gzip"), Some("br")] {
            let a = fetch(&old.addr, url, coding).unwrap();
            let b = fetch(&new.addr, url, coding).unwrap();
            assert_eq!((a.0, b.0), (200, 200), "{url} {coding:?}");
            assert_eq!(a.1, b.1, "{url} {coding:?}");
        }
        let (_, ha) = old.curl_head(url, &["-H", "Accept-Encoding: gzip"]);
        let (_, hb) = new.curl_head(url, &["-H", "Accept-Encoding: gzip"]);
        assert_eq!(header(&ha, "etag"), header(&hb, "etag"), "{url}");
    }
    // The other way round cannot work: the new page's stylesheet is not on the old replica,
    // which is why a deploy copies the new tree everywhere before any replica swaps.
    let (_, new_page) = fetch(&new.addr, "/", None).unwrap();
    let new_page = String::from_utf8(new_page).unwrap();
    let missing: Vec<_> = references(&new_page, "/")
        .into_iter()
        .filter(|url| fetch(&old.addr, url, None).unwrap().0 == 404)
        .collect();
    assert!(missing.iter().any(|u| u.ends_with(".css")), "{missing:?}");
}

#[test]
fn rebuilds_and_reloads_under_load_fail_no_request() {
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    const CLIENTS: usize = 3;
    const MAX_REQUESTS: usize = 4000;
    const MAX_TIME: Duration = Duration::from_secs(90);
    const BETWEEN: usize = 40;

    let tree = Tree::new();
    write_release(&tree, 1);
    tree.build(&[]).success();
    let serve = Serve::start(tree.root(), &["--watch-interval", "20ms", "--workers", "2"]);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let pages = Arc::new(Mutex::new(BTreeSet::new()));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (addr, stop, done) = (serve.addr.clone(), stop.clone(), done.clone());
            let (pages, failures) = (pages.clone(), failures.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                let codings = [None, Some("gzip"), Some("br, zstd"), Some("zstd")];
                let mut n = 0usize;
                let mut check = |target: &str, coding| {
                    n += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                    match fetch(&addr, target, coding) {
                        Ok((200, body)) => Some(body),
                        Ok((status, _)) => {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("{status} {target} {coding:?}"));
                            None
                        }
                        Err(e) => {
                            failures.lock().unwrap().push(format!("{target}: {e}"));
                            None
                        }
                    }
                };
                let mut round = 0;
                while !stop.load(Ordering::Relaxed)
                    && round < MAX_REQUESTS
                    && started.elapsed() < MAX_TIME
                {
                    round += 1;
                    let Some(page) = check("/", None) else {
                        continue;
                    };
                    let page = String::from_utf8_lossy(&page).into_owned();
                    let assets = references(&page, "/");
                    pages.lock().unwrap().insert(page);
                    for (i, url) in assets.iter().enumerate() {
                        check(url, codings[(round + i + client) % codings.len()]);
                    }
                }
                n
            })
        })
        .collect();
    let wait_for_traffic = |at_least: usize| {
        let deadline = Instant::now() + MAX_TIME;
        while done.load(Ordering::Relaxed) < at_least {
            assert!(Instant::now() < deadline, "the clients stalled");
            assert!(
                failures.lock().unwrap().is_empty(),
                "{:?}",
                failures.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };

    // Two rebuilds into the served root, each noticed and reloaded while the clients run.
    let mut generations = vec![newest_generation(&tree, "build")];
    for release in [2, 3] {
        wait_for_traffic(done.load(Ordering::Relaxed) + BETWEEN);
        write_release(&tree, release);
        tree.build(&[]).success();
        let id = newest_generation(&tree, "build");
        serve.wait_for_stderr(|l| l.contains("reloaded") && l.contains(&id));
        generations.push(id);
    }
    wait_for_traffic(done.load(Ordering::Relaxed) + BETWEEN);
    stop.store(true, Ordering::Relaxed);
    let total: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();

    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed of {total}: {failures:?}",
        failures.len()
    );
    assert!(total >= 3 * BETWEEN, "{total}");
    assert_eq!(generations.iter().collect::<BTreeSet<_>>().len(), 3);
    let pages = pages.lock().unwrap();
    assert_eq!(pages.len(), 3, "every release's page was seen under load");
    // Every asset referenced by any release's page (and by its stylesheet) is still there.
    for page in pages.iter() {
        for url in page_assets(&serve.addr, page) {
            for coding in [None, Some("gzip"), Some("br")] {
                assert_eq!(
                    fetch(&serve.addr, &url, coding).unwrap().0,
                    200,
                    "{url} {coding:?}"
                );
            }
        }
    }
}

#[test]
fn a_broken_new_build_is_refused_while_the_old_one_keeps_serving() {
    let tree = Tree::new();
    write_release(&tree, 1);
    tree.build(&[]).success();
    let first = newest_generation(&tree, "build");
    let serve = Serve::start(tree.root(), &["--watch-interval", "20ms"]);
    let (_, h) = serve.curl_head("/", &[]);
    let etag_v1 = header(&h, "etag").unwrap().to_owned();
    let css_v1 = format!("/{}", tree.served("css/site.css"));

    // Release 2 built elsewhere, a file lost, and the tree moved into place anyway.
    write_release(&tree, 2);
    tree.build_into("next", &[]).success();
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(tree.root().join("next/assetc-manifest.json")).unwrap(),
    )
    .unwrap();
    let lost = manifest["entries"]["js/app.js"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let lost_bytes = std::fs::read(tree.root().join("next").join(&lost)).unwrap();
    std::fs::remove_file(tree.root().join("next").join(&lost)).unwrap();
    let second = newest_generation(&tree, "next");
    std::fs::rename(tree.output(), tree.root().join("previous")).unwrap();
    std::fs::rename(tree.root().join("next"), tree.output()).unwrap();

    let line = serve.wait_for_stderr(|l| l.contains("refused the new build"));
    assert!(line.contains(&lost) && line.contains(&first), "{line}");
    let (status, h) = serve.curl_head("/", &[]);
    assert_eq!((status, header(&h, "etag")), (200, Some(etag_v1.as_str())));
    assert_eq!(serve.curl_head(&css_v1, &[]).0, 200);
    assert_eq!(
        serve.curl_head(&css_v1, &["-H", "Accept-Encoding: gzip"]).0,
        200
    );

    // Repairing the tree in place changes nothing the poll looks at; SIGHUP takes it.
    std::fs::write(tree.output().join(&lost), lost_bytes).unwrap();
    serve.sighup();
    let line = serve.wait_for_stderr(|l| l.contains("reloaded"));
    assert!(
        line.contains(&second) && line.contains("on request"),
        "{line}"
    );
    let (status, h) = serve.curl_head("/", &[]);
    assert_eq!(status, 200);
    assert_ne!(header(&h, "etag"), Some(etag_v1.as_str()));
    assert_eq!(serve.curl_head(&format!("/{lost}"), &[]).0, 200);
}

#[test]
fn sighup_reloads_a_new_build() {
    let tree = Tree::new();
    write_release(&tree, 1);
    tree.build(&[]).success();
    let serve = Serve::start(tree.root(), &["--no-watch"]);
    let (_, h) = serve.curl_head("/", &[]);
    let etag_v1 = header(&h, "etag").unwrap().to_owned();
    write_release(&tree, 2);
    tree.build(&[]).success();
    let id = newest_generation(&tree, "build");
    // Not watching: still the first build until told.
    assert_eq!(
        header(&serve.curl_head("/", &[]).1, "etag"),
        Some(etag_v1.as_str())
    );
    serve.sighup();
    let line = serve.wait_for_stderr(|l| l.contains("reloaded"));
    assert!(line.contains(&id) && line.contains("on request"), "{line}");
    let (status, h) = serve.curl_head("/", &["-H", "Accept-Encoding: gzip"]);
    assert_eq!(status, 200);
    assert_eq!(
        header(&h, "etag"),
        tree.manifest()["entries"]["index.html"]["variants"]["gzip"]["etag"].as_str()
    );
    // A second SIGHUP reloads the same build again: the process lives on.
    serve.sighup();
    let line = serve.wait_for_stderr(|l| l.contains("reloaded"));
    assert!(line.contains("unchanged"), "{line}");
    assert_eq!(serve.curl_head("/", &[]).0, 200);
}
