//! The origin side of the cache tests: a small site built by the real `assetc build`, two
//! `assetc serve` replicas on copies of it (other inodes, other mtimes), what their access
//! logs say they sent, and a deploy done as README's Deploys section says.

use std::cell::Cell;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::common::http::Http;
use crate::common::server::Server;
use crate::common::{copy_tree, set_mtimes, Tree, TIMEOUT};

/// One representation of a URL: its coding (`None`: identity), strong ETag and bytes.
#[derive(Debug, Clone)]
pub struct Rep {
    pub coding: Option<String>,
    pub etag: String,
    pub bytes: Vec<u8>,
}

impl Rep {
    pub fn coding_name(&self) -> &str {
        self.coding.as_deref().unwrap_or("identity")
    }
}

/// The site: a page whose stylesheet uses a web font and whose module imports another,
/// all large enough for br, zstd and gzip variants (the font is not compressible: one
/// representation, no `Vary`), and a page too small for variants.
pub struct Site {
    pub tree: Tree,
    pub release: u32,
    manifest: serde_json::Value,
}

impl Site {
    /// Release 1, built.
    pub fn new() -> Self {
        let tree = Tree::new();
        write_release(&tree, 1);
        tree.build(&[]).success();
        let manifest = tree.manifest();
        Self {
            tree,
            release: 1,
            manifest,
        }
    }

    /// Writes release `n` and builds it over the previous output (which keeps the previous
    /// generation's fingerprinted files, as a deploy needs).
    pub fn release(&mut self, n: u32) {
        write_release(&self.tree, n);
        self.tree.build(&[]).success();
        self.manifest = self.tree.manifest();
        self.release = n;
    }

    /// The URL of a logical path in the current release (`/` for the home page).
    pub fn url(&self, logical: &str) -> String {
        if logical == "index.html" {
            return "/".to_owned();
        }
        format!("/{}", self.entry(logical)["path"].as_str().unwrap())
    }

    fn entry(&self, logical: &str) -> &serde_json::Value {
        let entry = &self.manifest["entries"][logical];
        assert!(entry.is_object(), "`{logical}` is not in the manifest");
        entry
    }

    /// Every representation of a logical path in the current release, identity first, with
    /// the bytes on disk.
    pub fn reps(&self, logical: &str) -> Vec<Rep> {
        let entry = self.entry(logical);
        let read = |path: &serde_json::Value| {
            fs::read(self.tree.output().join(path.as_str().unwrap())).unwrap()
        };
        let mut reps = vec![Rep {
            coding: None,
            etag: entry["etag"].as_str().unwrap().to_owned(),
            bytes: read(&entry["path"]),
        }];
        for (coding, variant) in entry["variants"].as_object().unwrap() {
            reps.push(Rep {
                coding: Some(coding.clone()),
                etag: variant["etag"].as_str().unwrap().to_owned(),
                bytes: read(&variant["path"]),
            });
        }
        reps
    }
}

fn write_release(tree: &Tree, n: u32) {
    let rules: String = (0..80)
        .map(|i| format!(".c{i} {{ margin: {i}px; padding: {}px }}\n", i * n))
        .collect();
    let exports: String = (0..60)
        .map(|i| format!("export const value{i} = {n} * {i};\n"))
        .collect();
    // A font of 2 KiB that no coding shrinks: the same bytes for every client.
    let mut state = 0x9e37_79b9_u32 ^ n;
    let font: Vec<u8> = (0..2048)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    tree.file(
        "index.html",
        format!(
            "<!doctype html><html><head><meta charset=utf-8><title>release {n}</title>\
             <link rel=stylesheet href=\"/css/site.css\">\
             <script type=module src=\"/js/app.js\"></script></head>\
             <body><h1>release {n}</h1>\n{}</body></html>\n",
            "<p>words for the page to be worth compressing</p>\n".repeat(40)
        ),
    )
    .file(
        "css/site.css",
        format!(
            "/* release {n} */\n@font-face {{ font-family: Face; src: url(../fonts/face.woff2) format(\"woff2\") }}\n\
             body {{ font-family: Face, sans-serif }}\n{rules}"
        ),
    )
    .file("fonts/face.woff2", font)
    .file("about.html", format!("<!doctype html><title>about</title><p>release {n}\n"))
    .file(
        "js/app.js",
        format!("import {{ util }} from './util.js';\n// release {n}\n{exports}util();\n"),
    )
    .file(
        "js/util.js",
        format!(
            "export function util() {{ return {n}; }}\n{}",
            "export const filler = 'words for the module to be worth compressing';\n".repeat(30)
        ),
    );
}

/// One request a replica logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// 0 or 1.
    pub replica: usize,
    pub method: String,
    pub target: String,
    pub status: u16,
    /// Bytes of the body sent (`None` for 304 and HEAD).
    pub bytes: Option<u64>,
}

/// The marker requests that close a stretch of a replica's access log.
const MARK: &str = "/__assetc-cache-test/mark-";

/// Two `assetc serve` replicas, each on `replicaN/current`, a symlink to a release directory
/// holding its own copy of the build; both answer `--health-path /healthz` and log every
/// request (`--access-log common`).
pub struct Replicas {
    pub servers: Vec<Server>,
    dirs: Vec<PathBuf>,
    /// How far `fetches` has read each replica's log.
    read: Vec<Cell<usize>>,
    marks: Cell<u32>,
}

impl Replicas {
    /// The site's current build copied to each replica as its first release, then served.
    pub fn start(site: &Site) -> Self {
        let dirs: Vec<PathBuf> = (0..2)
            .map(|i| site.tree.root().join(format!("replica{i}")))
            .collect();
        let replicas = Self {
            servers: Vec::new(),
            dirs,
            read: vec![Cell::new(0), Cell::new(0)],
            marks: Cell::new(0),
        };
        replicas.copy_release(site);
        for dir in &replicas.dirs {
            std::os::unix::fs::symlink(format!("releases/{}", site.release), dir.join("current"))
                .unwrap();
        }
        let servers = (0..2)
            .map(|i| {
                Server::serve(site.tree.root())
                    .args(&[
                        "--root",
                        &format!("replica{i}/current"),
                        "--health-path",
                        "/healthz",
                        "--access-log",
                        "common",
                        "--watch-interval",
                        "50ms",
                        "--workers",
                        "2",
                    ])
                    .start()
            })
            .collect();
        Self {
            servers,
            ..replicas
        }
    }

    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.servers.iter().map(Http::addr).collect()
    }

    /// Step 1 of a deploy: the site's current build copied beside every replica's served
    /// root as `releases/<n>`, with other mtimes on each (as copies on other machines have),
    /// and checked with `assetc verify`.
    pub fn copy_release(&self, site: &Site) {
        for (i, dir) in self.dirs.iter().enumerate() {
            let release = dir.join("releases").join(site.release.to_string());
            copy_tree(&site.tree.output(), &release);
            let days = 19_000 + 30 * i as u64 + u64::from(site.release);
            set_mtimes(
                &release,
                SystemTime::UNIX_EPOCH + Duration::from_secs(days * 86_400),
            );
            site.tree
                .run(&["verify", "--root", release.to_str().unwrap()])
                .success();
        }
    }

    /// Step 2: every replica's `current` flipped to `releases/<n>` (a new symlink renamed
    /// over the old one), one right after the other; returns once each has logged its reload.
    pub fn swap(&self, site: &Site) {
        for dir in &self.dirs {
            let next = dir.join("current.next");
            std::os::unix::fs::symlink(format!("releases/{}", site.release), &next).unwrap();
            fs::rename(&next, dir.join("current")).unwrap();
        }
        for server in &self.servers {
            server.wait_for_stderr(|l| l.contains("reloaded `"));
        }
    }

    /// What each replica logged since the last call (health probes left out): each replica
    /// is sent a marker request, and its log is read up to the marker's line, so nothing a
    /// replica answered before is still on its way.
    pub fn fetches(&self) -> Vec<Fetch> {
        let mark = self.marks.get() + 1;
        self.marks.set(mark);
        let target = format!("{MARK}{mark}");
        let mut out = Vec::new();
        for (i, server) in self.servers.iter().enumerate() {
            assert_eq!(server.get(&target).status, 404, "the marker {target}");
            let deadline = Instant::now() + TIMEOUT;
            let lines = loop {
                let lines = server.stdout();
                if let Some(at) = lines.iter().position(|l| l.contains(&target)) {
                    let from = self.read[i].get();
                    self.read[i].set(at + 1);
                    break lines[from..at].to_vec();
                }
                assert!(
                    Instant::now() < deadline,
                    "replica {i} did not log the marker {target}"
                );
                std::thread::sleep(Duration::from_millis(5));
            };
            for line in lines {
                let fetch = parse_common(i, &line)
                    .unwrap_or_else(|| panic!("not a common log line: {line:?}"));
                if fetch.target != "/healthz" && !fetch.target.starts_with(MARK) {
                    out.push(fetch);
                }
            }
        }
        out
    }
}

/// `127.0.0.1 - - [date] "GET /x HTTP/1.1" 200 392`.
fn parse_common(replica: usize, line: &str) -> Option<Fetch> {
    let mut parts = line.split('"');
    let _ = parts.next()?;
    let request = parts.next()?;
    let rest = parts.next()?;
    let mut request = request.split(' ');
    let method = request.next()?.to_owned();
    let target = request.next()?.to_owned();
    let mut rest = rest.split_whitespace();
    let status = rest.next()?.parse().ok()?;
    let bytes = rest.next()?.parse().ok();
    Some(Fetch {
        replica,
        method,
        target,
        status,
        bytes,
    })
}

/// The path of a file a test writes for a cache in `dir`.
pub fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, contents).unwrap();
    path
}
