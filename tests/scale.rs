//! A build with far more files than the server may open descriptors: `assetc serve` under
//! `ulimit -n 256` starts on 20,000 files and answers every one of them, also after a
//! deploy replaced the tree it loaded, holding no more files open than its cache allows.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufReader, Write};
use std::net::TcpStream;

use crate::common::http::{read_response, Http};
use crate::common::server::Server;
use crate::common::{Tree, TIMEOUT};

const DIRS: usize = 200;
const PER_DIR: usize = 100;

/// File `i`'s bytes: distinct, 600 to 1,100 bytes (most of them stay on disk).
fn contents(i: usize, release: u32) -> Vec<u8> {
    let mut bytes = format!("file {i} of release {release}\n").into_bytes();
    bytes.resize(600 + (i * 37) % 500, b'a' + (i % 26) as u8);
    bytes
}

/// GETs every URL on one kept-alive connection; each answer must be a 200 with `want`.
fn get_all(server: &Server, want: &BTreeMap<String, Vec<u8>>) {
    let stream = TcpStream::connect(server.addr()).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    for (url, bytes) in want {
        writer
            .write_all(format!("GET {url} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .unwrap();
        let r = read_response(&mut reader, false).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(r.status, 200, "{url}: {}", r.text());
        assert!(r.body == *bytes, "{url}: other bytes");
    }
}

/// Regular files under `root` the process `pid` holds open.
fn open_files_under(pid: u32, root: &std::path::Path) -> usize {
    let root = root.canonicalize().unwrap();
    fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|fd| fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.starts_with(&root) && target.is_file())
        .count()
}

#[test]
fn twenty_thousand_files_are_served_under_ulimit_256_across_a_deploy() {
    let tree = Tree::new();
    let write = |release: u32| {
        for i in 0..DIRS * PER_DIR {
            tree.file(
                &format!("d{:03}/f{:03}.bin", i / PER_DIR, i % PER_DIR),
                contents(i, release),
            );
        }
    };
    write(1);
    tree.file("index.html", "<!doctype html><h1>many files</h1>\n");
    tree.build(&["--codings", "none", "--quiet"]).success();
    // 1 MiB in memory: about a thousand files; the other 19,000 are read from disk.
    fs::write(
        tree.root().join("assetc.toml"),
        "[serve]\nmemory_budget = 1048576\n",
    )
    .unwrap();
    let server = Server::serve(tree.root())
        .args(&["--root", "build", "--no-watch"])
        .open_files(256)
        .start();
    // By file index: the URL the build gives it now.
    let urls = || -> Vec<String> {
        let manifest = tree.manifest();
        (0..DIRS * PER_DIR)
            .map(|i| {
                let logical = format!("d{:03}/f{:03}.bin", i / PER_DIR, i % PER_DIR);
                format!(
                    "/{}",
                    manifest["entries"][&logical]["path"].as_str().unwrap()
                )
            })
            .collect()
    };
    let changed = |i: usize| i % 100 == 0;
    let first_urls = urls();
    let first: BTreeMap<String, Vec<u8>> = first_urls
        .iter()
        .enumerate()
        .map(|(i, url)| (url.clone(), contents(i, 1)))
        .collect();
    get_all(&server, &first);
    // The cache's bound: (256 - 32 reserved) / 2 handles.
    let open = open_files_under(server.pid(), &tree.output());
    assert!(open <= 112, "{open} files of the build open");

    // A deploy: every 100th file changes; the build swaps a new tree in and deletes the one
    // the server loaded. Before the reload every old URL still answers with its bytes (the
    // old generation's files are linked into the new tree)...
    for i in (0..DIRS * PER_DIR).filter(|&i| changed(i)) {
        tree.file(
            &format!("d{:03}/f{:03}.bin", i / PER_DIR, i % PER_DIR),
            contents(i, 2),
        );
    }
    tree.build(&["--codings", "none", "--quiet"]).success();
    get_all(&server, &first);
    // ...and after it, the new build's URLs do.
    server.sighup();
    server.wait_for_stderr(|l| l.contains("reloaded"));
    let second: BTreeMap<String, Vec<u8>> = urls()
        .into_iter()
        .enumerate()
        .map(|(i, url)| {
            assert_eq!(url != first_urls[i], changed(i), "{url}");
            (url, contents(i, if changed(i) { 2 } else { 1 }))
        })
        .collect();
    get_all(&server, &second);
}
