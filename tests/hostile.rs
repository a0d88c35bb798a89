//! Hostile input against the real `assetc serve` (issue 9): a corpus of hostile requests
//! over raw sockets (`hostile/corpus.rs`), slow clients (slowloris) against the request and
//! keep-alive timeouts, and a thousand connections from `wrk`. Every server binds
//! 127.0.0.1:0; every loop is bounded in count and time.
//!
//! The fixture is a real build with a secret file next to (outside) the build root and
//! symlinks inside the root pointing at it: no response may carry any part of it.

mod corpus;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::http::{read_response, Http};
use crate::common::server::{Builder, Server};
use crate::common::{assetc, Tree};
use corpus::After;

/// The most one corpus case may take, its follow-up request included. The corpus server's
/// request timeout is far longer, so a request the server merely waits out fails here.
const PER_CASE: Duration = Duration::from_secs(5);

/// The fixture: a built site, a secret beside the root, symlinks to it inside the root.
pub struct Site {
    tree: Tree,
    /// Served paths (no leading `/`) of the fingerprinted stylesheet (br, gzip and zstd
    /// variants, in memory) and of a 400 KiB file served from disk.
    pub css: String,
    pub big: String,
    /// The stylesheet's strong ETag (identity), quoted.
    pub css_etag: String,
    css_bytes: Vec<u8>,
    secret: Vec<u8>,
}

impl Site {
    fn new() -> Self {
        let tree = Tree::new();
        let rule = |i: usize| format!(".rule-{i} {{ margin: {i}px; color: #{:06x}; }}\n", i * 7919);
        let css: String = (0..80).map(rule).collect();
        let big: Vec<u8> = (0..400_000u32).map(|i| (i % 251) as u8).collect();
        tree.file(
            "index.html",
            "<!doctype html><link rel=stylesheet href=\"css/site.css\"><h1>home</h1>\n",
        )
        .file("css/site.css", &css)
        .file("media/big.bin", &big)
        .file("404.html", "<!doctype html><h1>not here</h1>\n");
        tree.build(&[]).success();

        // The secret: outside the root, distinctive, reachable only through symlinks.
        let secret = format!(
            "ASSETC-SECRET-{:016x}-{:016x}\n",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        )
        .repeat(4)
        .into_bytes();
        let secret_path = tree.root().join("secret.txt");
        std::fs::write(&secret_path, &secret).unwrap();
        let out = tree.output();
        std::os::unix::fs::symlink("../secret.txt", out.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink(&secret_path, out.join("abs.txt")).unwrap();
        std::os::unix::fs::symlink("../../secret.txt", out.join("css/leak.css")).unwrap();
        std::os::unix::fs::symlink("..", out.join("up")).unwrap();

        let manifest = tree.manifest();
        let entry = &manifest["entries"]["css/site.css"];
        let css_path = entry["path"].as_str().unwrap().to_owned();
        assert!(
            entry["variants"].get("br").is_some() && entry["variants"].get("gzip").is_some(),
            "the stylesheet has variants: {entry}"
        );
        Site {
            css_bytes: std::fs::read(out.join(&css_path)).unwrap(),
            css: css_path,
            big: tree.served("media/big.bin"),
            css_etag: entry["etag"].as_str().unwrap().to_owned(),
            secret,
            tree,
        }
    }

    /// Whether `bytes` hold any 16-byte run of the secret.
    fn leaks(&self, bytes: &[u8]) -> bool {
        const RUN: usize = 16;
        let runs: HashSet<&[u8]> = self.secret.windows(RUN).collect();
        bytes.windows(RUN).any(|w| runs.contains(w))
    }
}

/// `assetc serve --root build --no-watch` plus `args` in `dir`, on 127.0.0.1:0.
fn serve(dir: &Path, args: &[&str]) -> Builder {
    Server::serve(dir)
        .args(&["--root", "build", "--no-watch"])
        .args(args)
}

/// A new connection to `server`, reads and writes bounded by [`PER_CASE`].
fn connect(server: &Server) -> TcpStream {
    let stream = server.connect();
    stream.set_read_timeout(Some(PER_CASE)).unwrap();
    stream.set_write_timeout(Some(PER_CASE)).unwrap();
    stream
}

/// Still running, no panic logged, and a normal request on a new connection gets the
/// right bytes.
#[track_caller]
fn assert_healthy(server: &mut Server, site: &Site) {
    server.assert_running();
    let mut reader = BufReader::new(connect(server));
    if let Err(e) = normal_request(&mut reader, site) {
        panic!("a normal request after the others: {e}");
    }
}

/// A normal GET of the fingerprinted stylesheet on `reader`'s connection: 200, the built
/// bytes, immutable.
fn normal_request(reader: &mut BufReader<TcpStream>, site: &Site) -> Result<(), String> {
    let request = format!("GET /{} HTTP/1.1\r\nHost: localhost\r\n\r\n", site.css);
    reader
        .get_mut()
        .write_all(request.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let response = read_response(reader, false).map_err(|e| format!("read: {e}"))?;
    if response.status != 200 || response.body != site.css_bytes {
        return Err(format!(
            "{} with {} bytes (expected 200 with the stylesheet's {})",
            response.status,
            response.body.len(),
            site.css_bytes.len()
        ));
    }
    if !response
        .header("cache-control")
        .is_some_and(|cc| cc.contains("immutable"))
    {
        return Err(format!(
            "no immutable Cache-Control: {:?}",
            response.headers
        ));
    }
    Ok(())
}

/// Sends one case and checks everything about its answer; returns the statuses seen.
fn run_case(server: &Server, site: &Site, case: &corpus::Case) -> Result<Vec<u16>, String> {
    let started = Instant::now();
    let stream = connect(server);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let written = writer.write_all(&case.request);
    if std::env::var_os("HOSTILE_DUMP").is_some() {
        std::fs::write("/tmp/hp/dump.bin", &case.request).unwrap();
    }
    let mut statuses = Vec::new();
    let mut raw = Vec::new();
    for (i, &expected) in case.expect.iter().enumerate() {
        let head = case.head.get(i).copied().unwrap_or(false);
        let response = match read_response(&mut reader, head) {
            Ok(response) => response,
            // A refused oversized head: the close may have reset the connection first.
            Err(_) if case.after == After::TooLarge && i == 0 => return Ok(statuses),
            Err(e) => {
                return Err(format!(
                    "response {} of {:?}: {e} (write: {written:?}; read so far {:?})",
                    i + 1,
                    case.expect,
                    String::from_utf8_lossy(&raw[..raw.len().min(2000)])
                ))
            }
        };
        raw.extend_from_slice(&response.raw);
        statuses.push(response.status);
        if response.status >= 500 {
            return Err(format!("a {} answer", response.status));
        }
        if response.status != expected {
            return Err(format!(
                "expected {:?}, got {statuses:?}…: {:?}",
                case.expect,
                String::from_utf8_lossy(&response.raw[..response.raw.len().min(300)])
            ));
        }
        if let (0, Some(coding)) = (i, case.coding) {
            let got = response.header("content-encoding").unwrap_or("");
            if got != coding {
                return Err(format!("Content-Encoding {got:?}, expected {coding:?}"));
            }
        }
    }
    if site.leaks(&raw) {
        return Err("a response holds bytes of the secret".to_owned());
    }
    match case.after {
        After::Open => normal_request(&mut reader, site)
            .map_err(|e| format!("the connection was not usable afterwards: {e}"))?,
        After::Close | After::TooLarge => {
            let mut rest = Vec::new();
            match reader.read_to_end(&mut rest) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
                Err(e) => return Err(format!("the connection was not closed: {e}")),
            }
            if site.leaks(&rest) {
                return Err("bytes after the answer hold the secret".to_owned());
            }
            if !rest.is_empty() {
                return Err(format!(
                    "unexpected bytes after the answer: {:?}",
                    String::from_utf8_lossy(&rest[..rest.len().min(200)])
                ));
            }
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
    let took = started.elapsed();
    if took > PER_CASE {
        return Err(format!("took {took:?}"));
    }
    Ok(statuses)
}

#[test]
fn hostile_corpus_gets_exact_answers_and_never_the_secret() {
    let site = Site::new();
    // Timeouts far beyond PER_CASE: a request the server waits out fails the case.
    let mut server = serve(
        site.tree.root(),
        &["--request-timeout", "60", "--keep-alive", "60"],
    )
    .start();
    let cases = corpus::cases(&site);
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    let only = std::env::var("HOSTILE_ONLY").ok();
    let cases: Vec<_> = cases
        .into_iter()
        .filter(|c| only.as_ref().is_none_or(|o| c.label.contains(o.as_str())))
        .collect();
    let mut failures = Vec::new();
    // category → status → count, for the summary.
    let mut summary: BTreeMap<&str, BTreeMap<u16, usize>> = BTreeMap::new();
    for case in &cases {
        match run_case(&server, &site, case) {
            Ok(statuses) => {
                let seen = summary.entry(case.category).or_default();
                for status in statuses {
                    *seen.entry(status).or_default() += 1;
                }
            }
            Err(e) => failures.push(format!(
                "[{}] {}: {e}\n    request: {:?}",
                case.category,
                case.label,
                String::from_utf8_lossy(&case.request[..case.request.len().min(160)])
            )),
        }
        // After every case: alive, no panic, a normal request answered right.
        assert_healthy(&mut server, &site);
    }
    println!("{} hostile cases:", cases.len());
    for (category, statuses) in &summary {
        let n = cases.iter().filter(|c| c.category == *category).count();
        println!("  {category:16} {n:4} cases  statuses {statuses:?}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Reads until the server closes `stream` (or resets it, or `limit` passes): what arrived and
/// how long it took.
fn until_closed(mut stream: TcpStream, limit: Duration) -> (Vec<u8>, Duration, bool) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut bytes = Vec::new();
    let mut buf = [0; 4096];
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break false,
        }
    };
    (bytes, started.elapsed(), closed)
}

/// Whether `took` is the timeout `secs`: actix-http arms its timers from a clock it updates
/// every 500 ms, so a close comes up to that much early; a loaded machine makes it late.
fn about(took: Duration, secs: u64) -> bool {
    let secs = Duration::from_secs(secs);
    took + Duration::from_millis(700) >= secs && took < secs + Duration::from_millis(2500)
}

/// Slowloris: 200 connections drip their first request's head while a normal client keeps
/// being answered; each is answered 408 and closed at the request timeout. (actix-http 3.20
/// arms that timer for a connection's first request only: a client that drips the head of a
/// later request on a kept-alive connection is not cut off, as the first byte of it also
/// clears the keep-alive timer. Not covered here: it needs a fix upstream or an IO wrapper.)
#[test]
fn slow_clients_do_not_starve_others_and_are_cut_off_at_the_request_timeout() {
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Slow connections held open at once.
    const SLOW: usize = 200;
    /// The server's request timeout: longer than the default (5 s), so that a close at the
    /// default would be too early.
    const REQUEST_TIMEOUT: u64 = 7;
    /// How often each slow client sends one more byte of its head.
    const DRIP: Duration = Duration::from_millis(250);

    let site = Site::new();
    let mut server = serve(
        site.tree.root(),
        &[
            "--request-timeout",
            &REQUEST_TIMEOUT.to_string(),
            "--workers",
            "2",
        ],
    )
    .open_files(1024)
    .start();

    // The slow clients: a request line and the start of a header, then a byte at a time.
    let done: Arc<Vec<AtomicBool>> = Arc::new((0..SLOW).map(|_| AtomicBool::new(false)).collect());
    let mut writers = Vec::with_capacity(SLOW);
    let mut readers = Vec::with_capacity(SLOW);
    for i in 0..SLOW {
        let mut stream = TcpStream::connect(server.addr()).expect("connect a slow client");
        stream
            .write_all(
                format!("GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-Slow-{i}: ").as_bytes(),
            )
            .unwrap();
        writers.push(stream.try_clone().unwrap());
        let done = done.clone();
        readers.push(std::thread::spawn(move || {
            let limit = Duration::from_secs(REQUEST_TIMEOUT + 15);
            let result = until_closed(stream, limit);
            done[i].store(true, Ordering::Relaxed);
            result
        }));
    }
    let dripper = {
        let done = done.clone();
        std::thread::spawn(move || {
            // Bounded: at most this many bytes per client, as long as any is still open.
            for _ in 0..(REQUEST_TIMEOUT + 15) * 4 {
                if done.iter().all(|d| d.load(Ordering::Relaxed)) {
                    break;
                }
                for (i, w) in writers.iter_mut().enumerate() {
                    if !done[i].load(Ordering::Relaxed) {
                        let _ = w.write_all(b"x");
                    }
                }
                std::thread::sleep(DRIP);
            }
        })
    };

    // Meanwhile a normal client is answered promptly, again and again, until the slow ones
    // are gone (bounded by count and time).
    // A new connection every 50 requests (not every one: no pile of TIME_WAIT sockets).
    let started = Instant::now();
    let mut answered = 0;
    let mut slowest = Duration::ZERO;
    let mut reader = BufReader::new(connect(&server));
    while !done.iter().all(|d| d.load(Ordering::Relaxed))
        && answered < 50_000
        && started.elapsed() < Duration::from_secs(REQUEST_TIMEOUT + 15)
    {
        let t = Instant::now();
        if answered % 50 == 0 {
            reader = BufReader::new(connect(&server));
        }
        if let Err(e) = normal_request(&mut reader, &site) {
            panic!("a normal request among {SLOW} slow clients: {e}");
        }
        slowest = slowest.max(t.elapsed());
        answered += 1;
    }
    let open_for = started.elapsed();
    dripper.join().unwrap();

    let mut reset = 0;
    for (i, reader) in readers.into_iter().enumerate() {
        let (bytes, took, closed) = reader.join().unwrap();
        assert!(closed, "slow client {i} was never disconnected ({took:?})");
        assert!(
            about(took, REQUEST_TIMEOUT),
            "slow client {i} disconnected after {took:?}, not at the {REQUEST_TIMEOUT} s request timeout"
        );
        if bytes.is_empty() {
            // Our next byte can race the close: a reset may drop the 408 in flight.
            reset += 1;
        } else {
            assert!(
                bytes.starts_with(b"HTTP/1.1 408 "),
                "slow client {i} got {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
    assert!(
        answered >= 20,
        "only {answered} normal requests in {open_for:?}"
    );
    assert!(
        slowest < Duration::from_secs(2),
        "a normal request took {slowest:?} among the slow clients"
    );
    println!(
        "{SLOW} slow clients cut off at ~{REQUEST_TIMEOUT} s ({} with a 408, {reset} reset first); \
         {answered} normal requests meanwhile, slowest {slowest:?}",
        SLOW - reset
    );
    assert_healthy(&mut server, &site);
}

/// A head never finished is answered 408 and closed after `request` seconds; an idle
/// keep-alive connection is closed `keep_alive` seconds after its response.
fn check_timeouts(server: &Server, site: &Site, request: u64, keep_alive: u64) {
    let mut partial = connect(server);
    partial
        .write_all(b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    let partial = std::thread::spawn(move || until_closed(partial, Duration::from_secs(15)));

    let mut idle = BufReader::new(connect(server));
    normal_request(&mut idle, site).unwrap();
    let (rest, took, closed) = until_closed(idle.into_inner(), Duration::from_secs(15));
    assert!(
        closed && rest.is_empty(),
        "idle keep-alive: {rest:?} {took:?}"
    );
    assert!(
        about(took, keep_alive),
        "an idle keep-alive connection closed after {took:?}, not {keep_alive} s"
    );

    let (bytes, took, closed) = partial.join().unwrap();
    assert!(closed, "a partial head was never cut off");
    assert!(
        about(took, request),
        "a partial head was cut off after {took:?}, not {request} s"
    );
    assert!(
        bytes.starts_with(b"HTTP/1.1 408 "),
        "{:?}",
        String::from_utf8_lossy(&bytes)
    );
}

#[test]
fn request_and_keep_alive_timeouts_come_from_flags_and_the_config_file() {
    let site = Site::new();
    let root = site.tree.root();
    let mut server = serve(root, &["--request-timeout", "1", "--keep-alive", "3"]).start();
    check_timeouts(&server, &site, 1, 3);
    assert_healthy(&mut server, &site);
    drop(server);

    // The `[serve]` keys of assetc.toml, in the directory `assetc serve` runs in.
    let config = root.join("assetc.toml");
    std::fs::write(&config, "[serve]\nrequest_timeout = 3\nkeep_alive = 1\n").unwrap();
    let mut server = serve(root, &[]).start();
    check_timeouts(&server, &site, 3, 1);
    assert_healthy(&mut server, &site);
    drop(server);
    std::fs::remove_file(&config).unwrap();

    // Keep-alive 0: every connection closes after its response.
    let server = serve(root, &["--keep-alive", "0"]).start();
    let mut reader = BufReader::new(connect(&server));
    normal_request(&mut reader, &site).unwrap();
    let (rest, took, closed) = until_closed(reader.into_inner(), Duration::from_secs(10));
    assert!(
        closed && rest.is_empty() && took < Duration::from_secs(2),
        "{took:?}"
    );
    drop(server);

    // No request timeout at all is refused at start-up.
    let out = assetc()
        .current_dir(root)
        .args(["serve", "--root", "build", "--bind", "127.0.0.1:0"])
        .args(["--request-timeout", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--request-timeout"), "{stderr}");
}

/// `wrk`'s totals, as `hostile/load.lua` prints them.
#[derive(Debug)]
struct WrkTotals {
    requests: u64,
    duration_us: u64,
    bytes: u64,
    connect: u64,
    read: u64,
    write: u64,
    timeout: u64,
    status: u64,
}

fn wrk(addr: &str, files: u32, args: &[&str], paths: &[String]) -> (WrkTotals, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/load.lua");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -n {files} && exec wrk \"$@\""))
        .arg("wrk")
        .args(args)
        .arg("-s")
        .arg(&script)
        .arg(format!("http://{addr}/"))
        .arg("--")
        .args(paths)
        .output()
        .expect("run wrk through bash");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "wrk failed (is it installed? `just test-deps` installs it): {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("{\"requests\""))
        .unwrap_or_else(|| panic!("no totals from wrk:\n{stdout}"));
    let json: serde_json::Value = serde_json::from_str(line).unwrap();
    let n = |k: &str| json[k].as_u64().unwrap_or_else(|| panic!("{k} in {line}"));
    let totals = WrkTotals {
        requests: n("requests"),
        duration_us: n("duration_us"),
        bytes: n("bytes"),
        connect: n("connect"),
        read: n("read"),
        write: n("write"),
        timeout: n("timeout"),
        status: n("status"),
    };
    (totals, stdout)
}

#[test]
fn a_thousand_connections_from_wrk_get_no_errors() {
    const CONNECTIONS: u32 = 1000;
    // Descriptors for the connections plus the server's own files, on both sides: the
    // server and wrk each run under `ulimit -n 4096`.
    const FILES: u32 = 4096;
    let site = Site::new();
    let mut server = serve(site.tree.root(), &["--workers", "2"])
        .open_files(FILES)
        .start();
    let paths = vec![
        "/".to_owned(),
        "/css/site.css".to_owned(),
        format!("/{}", site.css),
        format!("/{}", site.big),
    ];
    let (totals, output) = wrk(
        &server.addr().to_string(),
        FILES,
        &[
            "-t2",
            &format!("-c{CONNECTIONS}"),
            "-d4s",
            "--timeout",
            "20s",
        ],
        &paths,
    );
    println!("{output}");
    let errors = totals.connect + totals.read + totals.write + totals.timeout;
    assert_eq!(errors, 0, "socket errors under load: {totals:?}\n{output}");
    assert_eq!(totals.status, 0, "4xx/5xx under load: {totals:?}\n{output}");
    assert!(!output.contains("Non-2xx or 3xx responses"), "{output}");
    assert!(totals.requests > 0 && totals.bytes > 0, "{totals:?}");
    println!(
        "{CONNECTIONS} connections: {} requests in {:.1} s ({:.0}/s), {} MB, no errors",
        totals.requests,
        totals.duration_us as f64 / 1e6,
        totals.requests as f64 * 1e6 / totals.duration_us.max(1) as f64,
        totals.bytes / 1_000_000
    );
    assert_healthy(&mut server, &site);
}
