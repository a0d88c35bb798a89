//! `assetc serve` end to end: a fixture built by the real `assetc build`, served by the real
//! binary on 127.0.0.1:0, spoken to with real `curl` and with raw HTTP/1.1 for the targets
//! clients would normalise.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::common::http::{read_response, request, Http, Response};
use crate::common::server::Server;
use crate::common::{assetc, copy_tree, decode, set_mtimes, Tree};

/// `curl` against a running server: what a person checking it by hand would run.
pub(crate) trait Curl {
    fn url(&self, path: &str) -> String;
    /// `curl -sI` plus `args`: the status and the head of the response.
    fn curl_head(&self, path: &str, args: &[&str]) -> (u16, Response);
    /// `curl -s` GET plus `args`: the status and the head, the body discarded.
    fn curl_get_head(&self, path: &str, args: &[&str]) -> (u16, Response);
    /// `curl -s` plus `args`: the body.
    fn curl_body(&self, path: &str, args: &[&str]) -> Vec<u8>;
}

pub(crate) fn curl(args: &[&str], url: &str) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .arg(url)
        .output()
        .expect("run curl (`just test-deps` installs it)");
    assert!(
        out.status.success(),
        "curl {args:?} {url} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The head curl printed, read as the response head it is.
fn head_of(dump: &[u8]) -> (u16, Response) {
    let head = read_response(&mut &dump[..], true).expect("a response head from curl");
    (head.status, head)
}

impl Curl for Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }

    fn curl_head(&self, path: &str, args: &[&str]) -> (u16, Response) {
        head_of(&curl(&[&["-I"], args].concat(), &self.url(path)))
    }

    fn curl_get_head(&self, path: &str, args: &[&str]) -> (u16, Response) {
        head_of(&curl(
            &[&["-D", "-", "-o", "/dev/null"], args].concat(),
            &self.url(path),
        ))
    }

    fn curl_body(&self, path: &str, args: &[&str]) -> Vec<u8> {
        curl(args, &self.url(path))
    }
}

/// `assetc serve` plus `args` in `dir`, on 127.0.0.1:0.
fn serve(dir: &Path, args: &[&str]) -> Server {
    Server::serve(dir).args(args).start()
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
    let serve = serve(tree.root(), &[]);
    // `curl -I` the page, take its ETag, send it back: 304.
    let (status, headers) = serve.curl_head("/", &[]);
    assert_eq!(status, 200);
    assert_eq!(headers.header("cache-control"), Some("no-cache"));
    let etag = headers.header("etag").expect("ETag").to_owned();
    let last_modified = headers
        .header("last-modified")
        .expect("Last-Modified")
        .to_owned();
    assert_eq!(
        Some(etag.as_str()),
        tree.manifest()["entries"]["index.html"]["etag"].as_str()
    );
    let (status, h304) = serve.curl_head("/", &["-H", &format!("If-None-Match: {etag}")]);
    assert_eq!(status, 304);
    assert_eq!(h304.header("etag"), Some(etag.as_str()));
    assert_eq!(h304.header("cache-control"), Some("no-cache"));
    assert!(h304.header("content-type").is_none() && h304.header("content-length").is_none());
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
    let serve = serve(tree.root(), &[]);
    let page = String::from_utf8(serve.curl_body("/", &[])).unwrap();
    let css = tree.served("css/site.css");
    assert!(page.contains(&css), "{page}");
    let (status, headers) = serve.curl_head(&format!("/{css}"), &[]);
    assert_eq!(status, 200);
    assert_eq!(
        headers.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        headers.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(headers.header("accept-ranges"), Some("bytes"));
    assert_eq!(headers.header("x-content-type-options"), Some("nosniff"));
    assert!(headers.header("date").is_some());
    // The logical path still works, revalidated.
    let (status, headers) = serve.curl_head("/css/site.css", &[]);
    assert_eq!(
        (status, headers.header("cache-control")),
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
    assert_eq!((status, headers.header("location")), (308, Some("./docs/")));
    let (status, headers) = serve.curl_head("/missing.js", &[]);
    assert_eq!(
        (status, headers.header("cache-control")),
        (404, Some("no-store"))
    );
    assert!(String::from_utf8(serve.curl_body("/missing.js", &[]))
        .unwrap()
        .contains("not here"));
    let (status, headers) = serve.curl_head("/", &["-X", "POST"]);
    assert_eq!((status, headers.header("allow")), (405, Some("GET, HEAD")));
}

#[test]
fn two_servers_on_copies_of_one_build_agree_on_validators() {
    let tree = built_site();
    // A copy writes new files: other inodes, and (as a later deploy's copy) other mtimes.
    copy_tree(&tree.output(), &tree.root().join("copy/build"));
    set_mtimes(
        &tree.root().join("copy/build"),
        SystemTime::now() + Duration::from_secs(3600),
    );
    let a = serve(tree.root(), &[]);
    let b = serve(tree.root(), &["--root", "copy/build"]);
    for path in [
        "/".to_owned(),
        format!("/{}", tree.served("js/app.js")),
        "/docs/".to_owned(),
    ] {
        let (_, ha) = a.curl_head(&path, &[]);
        let (_, hb) = b.curl_head(&path, &[]);
        assert_eq!(ha.header("etag"), hb.header("etag"), "{path}");
        assert_eq!(
            ha.header("last-modified"),
            hb.header("last-modified"),
            "{path}"
        );
        let etag = ha.header("etag").unwrap();
        let (status, _) = b.curl_head(&path, &["-H", &format!("If-None-Match: {etag}")]);
        assert_eq!(status, 304, "{path}");
    }
}

/// The hostile corpus (`hostile.rs`) pins the exact status of every traversal over raw
/// sockets; this is what a real client sends. The secret beside the root is never served:
/// as written (`--path-as-is`) the dot segments are refused, and normalised by curl they
/// name a path the build does not have.
#[test]
fn a_secret_beside_the_root_never_reaches_curl() {
    let tree = built_site();
    std::fs::write(tree.root().join("secret.txt"), "top secret").unwrap();
    let serve = serve(tree.root(), &[]);
    let status = |target: &str, args: &[&str]| {
        let out = serve.curl_body(
            target,
            &[&["-o", "/dev/null", "-w", "%{http_code}"], args].concat(),
        );
        String::from_utf8(out).unwrap()
    };
    for target in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/css/../../secret.txt",
    ] {
        assert_eq!(status(target, &["--path-as-is"]), "400", "{target}");
        assert!(
            !String::from_utf8_lossy(&serve.curl_body(target, &["--path-as-is"]))
                .contains("top secret"),
            "{target}"
        );
    }
    assert_eq!(
        status("/../secret.txt", &[]),
        "404",
        "normalised to /secret.txt"
    );
    assert_eq!(status("/", &[]), "200", "still serving");
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
    let mut serve = serve(tree.root(), &["--workers", "1"]);
    // The head has arrived, the 24 MB body is in flight.
    let in_flight = serve.start_get(&big_url);
    serve.sigterm();
    let response = in_flight.finish();
    assert_eq!(response.body.len(), big.len(), "the in-flight body was cut");
    assert!(response.body == big);
    let status = serve.wait_exit();
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
    let serve = serve(tree.root(), &["--access-log", "json"]);
    let (status, headers) = serve.curl_head("/healthz", &[]);
    assert_eq!(status, 200);
    assert_eq!(headers.header("cache-control"), Some("no-store"));
    let (_, headers) = serve.curl_head("/", &["-A", "e2e-agent"]);
    assert_eq!(
        headers.header("cache-control"),
        Some("no-cache, s-maxage=5")
    );
    assert_eq!(
        headers.header("content-security-policy"),
        Some("default-src 'self'")
    );
    let lines = [
        serve.wait_for_stdout(|_| true),
        serve.wait_for_stdout(|_| true),
    ];
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
    let serve = Server::serve(tree.root()).env("PORT", "0").start();
    assert!(serve.addr().ip().is_unspecified(), "{}", serve.addr());
    let port = serve.addr().port();
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
    // An entry point (a fingerprinted file is checked at its first request instead).
    let served = tree.served("index.html");
    std::fs::write(tree.output().join(&served), "<!doctype html>changed\n").unwrap();
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

// ---- Precompressed variants, kept generations and reloads ----

/// A GET over a fresh connection: status and body, or what went wrong (for the load test's
/// threads, which count failures rather than fail).
fn fetch(
    server: &impl Http,
    target: &str,
    accept_encoding: Option<&str>,
) -> Result<(u16, Vec<u8>), String> {
    let headers: &[(&str, &str)] = match accept_encoding {
        Some(coding) => &[("Accept-Encoding", coding)],
        None => &[],
    };
    let response = server.try_raw(&request("GET", target, headers))?;
    Ok((response.status, response.body))
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

/// The assets a page references, and the ones its stylesheets reference, from `server`.
fn page_assets(server: &impl Http, page: &str) -> Vec<String> {
    let mut assets = references(page, "/");
    for css in assets.clone().iter().filter(|u| u.ends_with(".css")) {
        if let Ok((200, body)) = fetch(server, css, None) {
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

#[test]
fn precompressed_variants_are_negotiated_with_curl() {
    let tree = Tree::new();
    write_release(&tree, 1);
    tree.build(&[]).success();
    let serve = serve(tree.root(), &[]);
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
    assert_eq!(h.header("vary"), Some("Accept-Encoding"));
    assert_eq!(h.header("content-encoding"), None);
    assert_eq!(h.header("etag"), entry["etag"].as_str());
    // curl's own `--compressed` list takes the server's preference: br.
    let (_, h) = serve.curl_get_head(&url, &["--compressed"]);
    assert_eq!(h.header("content-encoding"), Some("br"));

    for coding in ["br", "zstd", "gzip"] {
        let variant = &entry["variants"][coding];
        let ae = format!("Accept-Encoding: {coding}");
        // HEAD: the variant's headers.
        let (status, h) = serve.curl_head(&url, &["-H", &ae]);
        assert_eq!(status, 200, "{coding}");
        assert_eq!(h.header("content-encoding"), Some(coding));
        assert_eq!(h.header("etag"), variant["etag"].as_str());
        assert_eq!(
            h.header("content-length"),
            Some(variant["size"].to_string().as_str())
        );
        assert_eq!(h.header("content-type"), Some("text/css; charset=utf-8"));
        assert_eq!(h.header("vary"), Some("Accept-Encoding"));
        assert_eq!(
            h.header("cache-control"),
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
        assert_eq!(h.header("etag"), variant["etag"].as_str());
        assert_eq!(h.header("vary"), Some("Accept-Encoding"));
        // The identity ETag does not revalidate the variant.
        let inm = format!("If-None-Match: {}", entry["etag"].as_str().unwrap());
        assert_eq!(serve.curl_head(&url, &["-H", &ae, "-H", &inm]).0, 200);
        // Ranges address the encoded bytes; put back together they decode.
        let size = variant["size"].as_u64().unwrap() as usize;
        let (status, h) = serve.curl_get_head(&url, &["-H", &ae, "-r", "0-99"]);
        assert_eq!(status, 206);
        assert_eq!(
            h.header("content-range"),
            Some(format!("bytes 0-99/{size}").as_str())
        );
        assert_eq!(h.header("content-encoding"), Some(coding));
        assert_eq!(h.header("vary"), Some("Accept-Encoding"));
        let mut joined = serve.curl_body(&url, &["-H", &ae, "-r", "0-99"]);
        joined.extend(serve.curl_body(&url, &["-H", &ae, "-r", "100-"]));
        assert_eq!(decode(coding, &joined), identity, "{coding}");
    }
    // Identity refused and nothing else acceptable: 406, with Vary.
    let (status, h) = serve.curl_head(&url, &["-H", "Accept-Encoding: identity;q=0, deflate"]);
    assert_eq!(status, 406);
    assert_eq!(h.header("vary"), Some("Accept-Encoding"));
    assert_eq!(h.header("cache-control"), Some("no-store"));
    // The page too: negotiated, and decoded by curl to what the build wrote.
    let page = serve.curl_body("/", &["--compressed"]);
    assert_eq!(page, tree.read("index.html").into_bytes());
}

#[test]
fn replicas_agree_on_the_validators_of_every_variant() {
    let tree = Tree::new();
    write_release(&tree, 1);
    tree.build(&[]).success();
    copy_tree(&tree.output(), &tree.root().join("copy"));
    let a = serve(tree.root(), &["--no-watch"]);
    let b = serve(tree.root(), &["--root", "copy", "--no-watch"]);
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
                assert_eq!(ha.header(name), hb.header(name), "{path} {coding} {name}");
            }
            let etag = ha.header("etag").unwrap();
            let inm = format!("If-None-Match: {etag}");
            let (status, h) = b.curl_head(path, &["-H", &ae, "-H", &inm]);
            assert_eq!(
                (status, h.header("etag")),
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
    copy_tree(&tree.output(), &tree.root().join("old"));
    write_release(&tree, 2);
    tree.build(&[]).success();
    let old = serve(tree.root(), &["--root", "old", "--no-watch"]);
    let new = serve(tree.root(), &["--no-watch"]);

    // A page the old replica served loads completely from the new one: same bytes, same
    // validators, for every coding.
    let (_, old_page) = fetch(&old, "/", None).unwrap();
    let old_page = String::from_utf8(old_page).unwrap();
    assert!(old_page.contains("release 1"));
    let assets = page_assets(&old, &old_page);
    assert!(assets.len() >= 3, "{assets:?}");
    for url in &assets {
        for coding in [None, Some("gzip"), Some("br")] {
            let a = fetch(&old, url, coding).unwrap();
            let b = fetch(&new, url, coding).unwrap();
            assert_eq!((a.0, b.0), (200, 200), "{url} {coding:?}");
            assert_eq!(a.1, b.1, "{url} {coding:?}");
        }
        let (_, ha) = old.curl_head(url, &["-H", "Accept-Encoding: gzip"]);
        let (_, hb) = new.curl_head(url, &["-H", "Accept-Encoding: gzip"]);
        assert_eq!(ha.header("etag"), hb.header("etag"), "{url}");
    }
    // The other way round cannot work: the new page's stylesheet is not on the old replica,
    // which is why a deploy copies the new tree everywhere before any replica swaps.
    let (_, new_page) = fetch(&new, "/", None).unwrap();
    let new_page = String::from_utf8(new_page).unwrap();
    let missing: Vec<_> = references(&new_page, "/")
        .into_iter()
        .filter(|url| fetch(&old, url, None).unwrap().0 == 404)
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
    let serve = serve(tree.root(), &["--watch-interval", "20ms", "--workers", "2"]);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let pages = Arc::new(Mutex::new(BTreeSet::new()));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (addr, stop, done) = (serve.addr(), stop.clone(), done.clone());
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
        for url in page_assets(&serve, page) {
            for coding in [None, Some("gzip"), Some("br")] {
                assert_eq!(
                    fetch(&serve, &url, coding).unwrap().0,
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
    let serve = serve(tree.root(), &["--watch-interval", "20ms"]);
    let (_, h) = serve.curl_head("/", &[]);
    let etag_v1 = h.header("etag").unwrap().to_owned();
    let css_v1 = format!("/{}", tree.served("css/site.css"));
    // Read before the deploy: a small fingerprinted file is held in memory from its first
    // request (one never requested is then looked for in the new tree, and answered 503).
    assert_eq!(serve.curl_head(&css_v1, &[]).0, 200);
    assert_eq!(
        serve.curl_head(&css_v1, &["-H", "Accept-Encoding: gzip"]).0,
        200
    );

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
    assert_eq!((status, h.header("etag")), (200, Some(etag_v1.as_str())));
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
    assert_ne!(h.header("etag"), Some(etag_v1.as_str()));
    assert_eq!(serve.curl_head(&format!("/{lost}"), &[]).0, 200);
}

#[test]
fn sighup_reloads_a_new_build() {
    let tree = Tree::new();
    write_release(&tree, 1);
    tree.build(&[]).success();
    let serve = serve(tree.root(), &["--no-watch"]);
    let (_, h) = serve.curl_head("/", &[]);
    let etag_v1 = h.header("etag").unwrap().to_owned();
    write_release(&tree, 2);
    tree.build(&[]).success();
    let id = newest_generation(&tree, "build");
    // Not watching: still the first build until told.
    assert_eq!(
        serve.curl_head("/", &[]).1.header("etag"),
        Some(etag_v1.as_str())
    );
    serve.sighup();
    let line = serve.wait_for_stderr(|l| l.contains("reloaded"));
    assert!(line.contains(&id) && line.contains("on request"), "{line}");
    let (status, h) = serve.curl_head("/", &["-H", "Accept-Encoding: gzip"]);
    assert_eq!(status, 200);
    assert_eq!(
        h.header("etag"),
        tree.manifest()["entries"]["index.html"]["variants"]["gzip"]["etag"].as_str()
    );
    // A second SIGHUP reloads the same build again: the process lives on.
    serve.sighup();
    let line = serve.wait_for_stderr(|l| l.contains("reloaded"));
    assert!(line.contains("unchanged"), "{line}");
    assert_eq!(serve.curl_head("/", &[]).0, 200);
}

// A file of an older kept generation that vanished from disk is listed by that
// generation's manifest, so the server was told it exists: it is the server's fault, a
// 503 `no-store` with the path logged (never a 404 a cache could keep), and the same answer
// after start-up (the file is checked at its first open) as after a reload (checked at
// load, and still routed).
#[test]
fn a_vanished_file_of_an_older_generation_gets_one_answer_after_start_and_after_reload() {
    let tree = Tree::new();
    write_release(&tree, 1);
    tree.build(&[]).success();
    let old_css = tree.served("css/site.css");
    let old_js = tree.served("js/app.js");
    write_release(&tree, 2);
    tree.build(&[]).success();
    assert_ne!(
        tree.served("css/site.css"),
        old_css,
        "release 2 renames the CSS"
    );
    std::fs::remove_file(tree.output().join(&old_css)).unwrap();
    let serve = serve(tree.root(), &["--no-watch"]);

    let answer = |label: &str| {
        let (status, h) = serve.curl_get_head(&format!("/{old_css}"), &[]);
        assert_eq!(
            h.header("cache-control"),
            Some("no-store"),
            "{label}: {status}"
        );
        // The other files of that generation are still served.
        assert_eq!(
            serve.curl_get_head(&format!("/{old_js}"), &[]).0,
            200,
            "{label}"
        );
        status
    };
    let after_start = answer("after start-up");
    assert_eq!(after_start, 503);
    let logged = serve.wait_for_stderr(|l| l.contains(&old_css));
    assert!(logged.contains("ERROR"), "{logged}");

    serve.sighup();
    serve.wait_for_stderr(|l| l.contains("reloaded"));
    assert_eq!(answer("after a reload"), after_start);
    serve.wait_for_stderr(|l| l.contains(&old_css));
}

/// `assetc build --quiet` of the tree with `SOURCE_DATE_EPOCH` at `epoch`.
fn build_at(tree: &Tree, epoch: i64) {
    let run = assetc()
        .current_dir(tree.root())
        .args(["build", "--input", "assets", "--output", "build", "--quiet"])
        .env("SOURCE_DATE_EPOCH", epoch.to_string())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

// Two builds within one second: the second page's bytes are stamped a second after the
// first's, ahead of the clock. Its Last-Modified is sent as the Date (RFC 9110 §8.8.2.1),
// but If-Modified-Since is compared with the real one, so a client holding the first page
// (`wget -N`, `curl -z`) gets the new bytes, not a 304. Both builds are stamped an hour
// ahead so that this holds however slowly the test runs.
#[test]
fn if_modified_since_from_the_previous_build_in_the_same_second_gets_the_new_bytes() {
    let tree = Tree::new();
    let ahead = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 3600;
    tree.file("index.html", "one\n");
    build_at(&tree, ahead);
    let server = serve(tree.root(), &["--no-watch"]);
    let first = server.get("/");
    assert_eq!((first.status, first.body.as_slice()), (200, &b"one\n"[..]));
    let date = first.h("last-modified").to_owned();
    assert_eq!(
        date,
        first.h("date"),
        "a future Last-Modified is sent as the Date"
    );
    tree.file("index.html", "two\n");
    build_at(&tree, ahead);
    assert_eq!(
        tree.manifest()["entries"]["index.html"]["last_modified"],
        ahead + 1
    );
    server.sighup();
    server.wait_for_stderr(|l| l.contains("reloaded"));
    let again = server.get_with("/", &[("If-Modified-Since", &date)]);
    assert_eq!((again.status, again.body.as_slice()), (200, &b"two\n"[..]));
    assert_ne!(again.h("etag"), first.h("etag"));
}

// The decision for a fixed `SOURCE_DATE_EPOCH` (Nix-style): Last-Modified comes from the
// epoch and, over the previous output, moves on by at least a second whenever the bytes
// change, so building over the deployed tree keeps If-Modified-Since exact. (Fresh
// builds with one constant epoch cannot know the bytes changed; the README says to set the
// epoch to the commit time, or to keep the previous output.)
#[test]
fn a_fixed_source_date_epoch_over_the_previous_output_still_moves_last_modified() {
    let tree = Tree::new();
    tree.file("index.html", "one\n")
        .file("robots.txt", "User-agent: *\n");
    build_at(&tree, 1_000_000_000);
    tree.file("index.html", "two\n");
    build_at(&tree, 1_000_000_000);
    let entries = &tree.manifest()["entries"];
    assert_eq!(entries["index.html"]["last_modified"], 1_000_000_001);
    assert_eq!(entries["robots.txt"]["last_modified"], 1_000_000_000);
    let server = serve(tree.root(), &["--no-watch"]);
    let stale = server.get_with(
        "/",
        &[("If-Modified-Since", "Sun, 09 Sep 2001 01:46:40 GMT")],
    );
    assert_eq!((stale.status, stale.body.as_slice()), (200, &b"two\n"[..]));
    let fresh = server.get_with(
        "/",
        &[("If-Modified-Since", "Sun, 09 Sep 2001 01:46:41 GMT")],
    );
    assert_eq!(fresh.status, 304);
}
