//! Test support: a build written into a temp dir with the core crate's types, a real server
//! on 127.0.0.1:0 in its own thread, and a raw HTTP/1.1 client over `TcpStream` (clients
//! normalise paths; hostile targets need the bytes sent as written).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use actix_web::{App, HttpServer};
use assetc_core::fingerprint::{hex, sha256};
use assetc_core::generations::{
    generation_manifest_path, Generation, Generations, GENERATIONS_FILE,
};
use assetc_core::{fingerprint, strong_etag, Entry, Manifest, Variant, MANIFEST_FILE_NAME};
use assetc_server::{Build, Mount, Options};

/// 2023-11-14T22:13:20Z
pub const LAST_MODIFIED: i64 = 1_700_000_000;
pub const LAST_MODIFIED_HTTP: &str = "Tue, 14 Nov 2023 22:13:20 GMT";

/// A build directory under construction.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub manifest: Manifest,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            manifest: Manifest::new("/"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Adds a file. A fingerprinted one is written at its hashed name and returned.
    pub fn add(&mut self, logical: &str, bytes: &[u8], fingerprinted: bool) -> String {
        let digest = sha256(bytes);
        let served = if fingerprinted {
            let lp = assetc_core::LogicalPath::new(logical).unwrap();
            assetc_core::fingerprinted_name(&lp, &fingerprint(&digest)).to_string()
        } else {
            logical.to_owned()
        };
        let path = self.root().join(&served);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        self.manifest.entries.insert(
            logical.to_owned(),
            Entry {
                content_type: assetc_core::content_type::content_type(logical, bytes),
                etag: strong_etag(&digest),
                immutable: fingerprinted,
                integrity: String::new(),
                last_modified: LAST_MODIFIED,
                path: served.clone(),
                references: Vec::new(),
                sha256: hex(&digest),
                size: bytes.len() as u64,
                variants: Default::default(),
            },
        );
        served
    }

    /// Writes precompressed variants of `logical` beside its file and lists them in the
    /// manifest: real gzip (tests decode it), stand-in bytes for br and zstd (the server
    /// sends them as they are), each with its own strong ETag.
    pub fn add_variants(&mut self, logical: &str, codings: &[&str]) {
        let entry = self.manifest.entries[logical].clone();
        let bytes = std::fs::read(self.root().join(&entry.path)).unwrap();
        for coding in codings {
            let encoded = encode(coding, &bytes);
            let ext = match *coding {
                "br" => "br",
                "zstd" => "zst",
                "gzip" => "gz",
                other => other,
            };
            let path = format!("{}.{ext}", entry.path);
            std::fs::write(self.root().join(&path), &encoded).unwrap();
            let digest = sha256(&encoded);
            self.manifest
                .entries
                .get_mut(logical)
                .unwrap()
                .variants
                .insert(
                    (*coding).to_owned(),
                    Variant {
                        etag: strong_etag(&digest),
                        path,
                        sha256: hex(&digest),
                        size: encoded.len() as u64,
                    },
                );
        }
    }

    /// The generation id `assetc build` gives this manifest.
    pub fn generation_id(&self) -> String {
        fingerprint(&sha256(&self.manifest.to_json()))
    }

    /// Writes `.assetc/`: this manifest as the newest generation, then `older`, newest first.
    pub fn write_generations(&self, older: &[&Manifest]) {
        let mut record = Generations::default();
        for manifest in std::iter::once(&self.manifest).chain(older.iter().copied()) {
            let json = manifest.to_json();
            let id = fingerprint(&sha256(&json));
            let path = self.root().join(generation_manifest_path(&id));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, json).unwrap();
            record.generations.push(Generation {
                built_at: LAST_MODIFIED,
                config: "test".into(),
                id,
            });
        }
        std::fs::write(self.root().join(GENERATIONS_FILE), record.to_json()).unwrap();
    }

    pub fn entry(&self, logical: &str) -> &Entry {
        &self.manifest.entries[logical]
    }

    pub fn write_manifest(&self) {
        std::fs::write(
            self.root().join(MANIFEST_FILE_NAME),
            self.manifest.to_json(),
        )
        .unwrap();
    }

    /// The usual site: entry points, fingerprinted assets, a 404 page, a directory index.
    pub fn site() -> Self {
        let mut f = Self::new();
        f.add("index.html", b"<!doctype html><title>home</title>\n", false);
        f.add(
            "about.html",
            b"<!doctype html><title>about</title>\n",
            false,
        );
        f.add(
            "404.html",
            b"<!doctype html><title>not found</title>\n",
            false,
        );
        f.add(
            "docs/index.html",
            b"<!doctype html><title>docs</title>\n",
            false,
        );
        f.add("css/app.css", b"body { color: red }\n", true);
        f.add("js/app.js", b"console.log('hi');\n", true);
        f.add("robots.txt", b"User-agent: *\n", false);
        f.add("img/social card.png", b"\x89PNG fake", true);
        f.add("empty.txt", b"", false);
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        f.add("media/big.bin", &big, true);
        f.write_manifest();
        f
    }
}

/// Encoded bytes for a coding: real gzip, and for other codings distinct stand-in bytes.
pub fn encode(coding: &str, bytes: &[u8]) -> Vec<u8> {
    match coding {
        "gzip" => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(bytes).unwrap();
            gz.finish().unwrap()
        }
        other => {
            let mut out = format!("<{other}>").into_bytes();
            out.extend(bytes.iter().step_by(2));
            out
        }
    }
}

/// Decodes gzip.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

/// A running server; stopped on drop.
pub struct Server {
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(root: &Path, options: &Options) -> Self {
        Self::start_mount(Mount::new("/", Build::open(root, options).unwrap()))
    }

    pub fn start_mount(mount: Mount) -> Self {
        Self::start_app(move || App::new().service(mount.clone()))
    }

    pub fn start_app<F, T>(factory: F) -> Self
    where
        F: Fn() -> App<T> + Send + Clone + 'static,
        T: actix_web::dev::ServiceFactory<
                actix_web::dev::ServiceRequest,
                Config = (),
                Response = actix_web::dev::ServiceResponse,
                Error = actix_web::Error,
                InitError = (),
            > + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(factory)
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(1)
                    .bind(("127.0.0.1", 0))
                    .unwrap();
                let addr = server.addrs()[0];
                let server = server.run();
                tx.send((addr, server.handle())).unwrap();
                server.await.unwrap();
            })
        });
        let (addr, handle) = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("server started");
        Self {
            addr,
            handle,
            thread: Some(thread),
        }
    }

    /// Sends `request` as written and reads the whole response (the request should say
    /// `Connection: close`, which [`Server::get`] and friends do).
    pub fn raw(&self, request: &[u8]) -> Response {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request).unwrap();
        let mut buf = Vec::new();
        // A reset after the response (server closing on a bad request) is fine.
        let _ = stream.read_to_end(&mut buf);
        Response::parse(&buf, request.starts_with(b"HEAD "))
    }

    pub fn request(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
        let mut req =
            format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        req.push_str("\r\n");
        self.raw(req.as_bytes())
    }

    pub fn get(&self, target: &str) -> Response {
        self.request("GET", target, &[])
    }

    pub fn get_with(&self, target: &str, headers: &[(&str, &str)]) -> Response {
        self.request("GET", target, headers)
    }

    pub fn head(&self, target: &str) -> Response {
        self.request("HEAD", target, &[])
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// In order, names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Bytes received after the header block.
    pub raw_body_len: usize,
}

impl Response {
    fn parse(buf: &[u8], _head: bool) -> Self {
        let end = buf
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no header block in {:?}", String::from_utf8_lossy(buf)));
        let head = std::str::from_utf8(&buf[..end]).expect("ASCII headers");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.to_ascii_lowercase(), v.trim().to_owned())
            })
            .collect();
        let body = buf[end + 4..].to_vec();
        Self {
            status,
            raw_body_len: body.len(),
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let mut all = self.headers.iter().filter(|(n, _)| n == name);
        let first = all.next().map(|(_, v)| v.as_str());
        assert!(
            all.next().is_none(),
            "several `{name}` headers: {:?}",
            self.headers
        );
        first
    }

    pub fn has(&self, name: &str) -> bool {
        self.headers.iter().any(|(n, _)| n == name)
    }

    /// The header, which must be there.
    pub fn h(&self, name: &str) -> &str {
        self.header(name)
            .unwrap_or_else(|| panic!("no `{name}` in {} {:?}", self.status, self.headers))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Headers every response of this server carries, checked on every response a test
    /// looks at: a valid IMF-fixdate Date (§6.6.1) and nosniff.
    pub fn check_common(&self) -> &Self {
        let date = self.h("date");
        assert!(
            assetc_server::date::parse_http_date(date.as_bytes(), 2026).is_some()
                && date.ends_with(" GMT")
                && date.len() == 29,
            "Date {date:?}"
        );
        assert_eq!(self.h("x-content-type-options"), "nosniff");
        if let Some(cl) = self.header("content-length") {
            assert_ne!(self.status, 304, "a 304 with Content-Length");
            let _: u64 = cl.parse().unwrap();
        }
        self
    }
}

/// A copy of a build directory (new inodes and mtimes).
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walk(from) {
        let rel = entry.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &dest).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
