//! Real published front-end packages and the output of real tools, at pinned versions from
//! the npm registry and PyPI (installed once and cached under `target/tmp/`), built by
//! assetc and checked by code that shares none of it:
//!
//! - npm packages (Bootstrap, its icons, Font Awesome) and a MkDocs site: an oracle
//!   (`realworld/refs.py`: Python's html.parser, regular expressions) reads every reference
//!   of input and output, and each one, mapped back through the manifest, names the same file
//!   as the reference it was written from;
//! - the sites of issue 17, each built with the flags README gives for it (`0 warnings`, `0
//!   notes`): a Vite + React app with a lazy route, CSS and images (without source maps,
//!   with them, and with `--base`), Material for MkDocs with search, Sphinx with furo, and
//!   Django's collected admin files with two pages Django rendered (as a static export, and
//!   through the manifest with the storage README gives). Every local reference in
//!   the output names a file of the output (the oracle again), and headless Chromium
//!   (`tests/browser/realworld.mjs`) loads two pages from `assetc serve` and two from
//!   Python's `http.server` over the same output (a plain static host, as nginx, a CDN or a
//!   bucket is): no failed request, no console error, no module evaluated twice, and the
//!   site's search finds a word where it has search.
//!
//! Compiled only with `--features realworld` (`just test-realworld`), since it downloads
//! the packages and runs the tools.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::common::server::Server;
use crate::common::{assetc, copy_tree};

const NPM_PACKAGES: &[(&str, &str)] = &[
    ("bootstrap@5.3.3", "bootstrap-5.3.3.tgz"),
    ("bootstrap-icons@1.11.3", "bootstrap-icons-1.11.3.tgz"),
    (
        "@fortawesome/fontawesome-free@6.5.2",
        "fortawesome-fontawesome-free-6.5.2.tgz",
    ),
];

fn corpus_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus");
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The npm packages, unpacked into `site/pkg/<name>/`, with a page that loads their CSS and JS.
fn npm_site(site: &Path) {
    let cache = corpus_dir();
    for (spec, tarball) in NPM_PACKAGES {
        if !cache.join(tarball).exists() {
            run(Command::new("npm")
                .args(["pack", spec, "--silent", "--pack-destination"])
                .arg(&cache)
                .current_dir(&cache));
        }
        let name = tarball.trim_end_matches(".tgz");
        let dest = site.join("pkg").join(name);
        fs::create_dir_all(&dest).unwrap();
        run(Command::new("tar")
            .arg("-xzf")
            .arg(cache.join(tarball))
            .arg("-C")
            .arg(&dest)
            .arg("--strip-components=1"));
    }
    fs::write(
        site.join("index.html"),
        r#"<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="pkg/bootstrap-5.3.3/dist/css/bootstrap.min.css">
<link rel="stylesheet" href="pkg/bootstrap-icons-1.11.3/font/bootstrap-icons.min.css">
<link rel="stylesheet" href="pkg/fortawesome-fontawesome-free-6.5.2/css/all.min.css">
</head><body><i class="bi bi-alarm"></i><i class="fa fa-solid fa-user"></i>
<img src="pkg/bootstrap-icons-1.11.3/icons/alarm.svg">
<script src="pkg/bootstrap-5.3.3/dist/js/bootstrap.bundle.min.js"></script>
<script type="module" src="pkg/bootstrap-5.3.3/dist/js/bootstrap.esm.min.js"></script>
</body></html>"#,
    )
    .unwrap();
}

/// A documentation site built by MkDocs (from PyPI, in a virtualenv).
fn mkdocs_site(site: &Path) {
    let cache = corpus_dir();
    let venv = python_tools();
    let project = cache.join("mkdocs-project");
    if !project.join("site/index.html").exists() {
        let _ = fs::remove_dir_all(&project);
        fs::create_dir_all(project.join("docs/guide")).unwrap();
        fs::write(
            project.join("mkdocs.yml"),
            "site_name: assetc corpus\nnav:\n  - Home: index.md\n  - Guide: guide/intro.md\n",
        )
        .unwrap();
        fs::write(
            project.join("docs/index.md"),
            "# Home\n\nSee the [guide](guide/intro.md).\n\n![grid](img/pic.png)\n",
        )
        .unwrap();
        fs::create_dir_all(project.join("docs/img")).unwrap();
        fs::write(project.join("docs/img/pic.png"), b"\x89PNG picture").unwrap();
        fs::write(
            project.join("docs/guide/intro.md"),
            "# Intro\n\n```rust\nfn main() {}\n```\n\nBack [home](../index.md).\n",
        )
        .unwrap();
        run(Command::new(venv.join("bin/mkdocs"))
            .args(["build", "--quiet"])
            .current_dir(&project));
    }
    copy_tree(&project.join("site"), site);
}

/// The oracle's references, by file (relative path), in document order.
fn oracle(root: &Path) -> BTreeMap<String, Vec<String>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/realworld/refs.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(root)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the oracle's JSON")
}

/// A reference to a file of the site: its path part and what follows it (`?…`, `#…`), or
/// `None` for an external, `data:`, fragment-only or empty one.
fn local(reference: &str) -> Option<(&str, &str)> {
    let scheme = reference.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    });
    if reference.is_empty() || reference.starts_with('#') || reference.starts_with("//") || scheme {
        return None;
    }
    let at = reference.find(['?', '#']).unwrap_or(reference.len());
    Some(reference.split_at(at))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The file under `root` that `path` (a reference's path part, as written in the file at
/// `from`, relative to `root`) names: the path itself, or the page a directory or clean URL
/// stands for, or (`x.svg%23frag`) the path before an encoded `#`.
fn resolve(root: &Path, from: &str, path: &str) -> Option<String> {
    let named = |path: &str| -> Option<String> {
        let joined = if let Some(absolute) = path.strip_prefix('/') {
            absolute.to_owned()
        } else {
            let dir = from.rsplit_once('/').map_or("", |(dir, _)| dir);
            format!("{dir}/{path}")
        };
        let mut segments: Vec<&str> = Vec::new();
        for segment in joined.split('/') {
            match segment {
                ".." => {
                    segments.pop()?;
                }
                "." | "" => {}
                s => segments.push(s),
            }
        }
        let file = percent_decode(&segments.join("/"));
        let candidates = if path.ends_with('/') || path.is_empty() {
            vec![format!("{file}/index.html")]
        } else {
            vec![
                file.clone(),
                format!("{file}.html"),
                format!("{file}/index.html"),
            ]
        };
        candidates
            .into_iter()
            .map(|c| c.trim_start_matches('/').to_owned())
            .find(|c| root.join(c).is_file())
    };
    named(path).or_else(|| {
        let (before, _) = path.split_once("%23")?;
        named(before)
    })
}

#[test]
fn real_packages_build_and_every_reference_in_the_output_names_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("assets");
    fs::create_dir_all(&site).unwrap();
    npm_site(&site);
    let docs = site.join("docs");
    fs::create_dir_all(&docs).unwrap();
    mkdocs_site(&docs);

    let out = assetc()
        .current_dir(dir.path())
        .args(["build", "--input", "assets", "--output", "build"])
        .args(["--codings", "gzip"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let build = dir.path().join("build");
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(build.join("assetc-manifest.json")).unwrap()).unwrap();
    let entries = manifest["entries"].as_object().unwrap();
    let served = |logical: &str| entries[logical]["path"].as_str().unwrap().to_owned();
    let logical_of: BTreeMap<String, String> = entries
        .iter()
        .map(|(logical, entry)| (entry["path"].as_str().unwrap().to_owned(), logical.clone()))
        .collect();

    let source_refs = oracle(&site);
    let output_refs = oracle(&build);
    let (mut pairs, mut rewritten) = (0, 0);
    let mut problems = Vec::new();
    // (logical file, reference) of the local references that name no file.
    let mut unresolved_in_source = BTreeSet::new();
    let mut unresolved_in_output = BTreeSet::new();
    for (logical, written) in &source_refs {
        let path = served(logical);
        let Some(found) = output_refs.get(&path) else {
            problems.push(format!("{logical}: no output file `{path}` read"));
            continue;
        };
        if found.len() != written.len() {
            problems.push(format!(
                "{logical}: {} references in the source, {} in `{path}`:\n  {written:?}\n  {found:?}",
                written.len(),
                found.len()
            ));
            continue;
        }
        for (before, after) in written.iter().zip(found) {
            pairs += 1;
            rewritten += usize::from(before != after);
            if let Some((out_path, _)) = local(after) {
                if resolve(&build, &path, out_path).is_none() {
                    unresolved_in_output.insert((logical.clone(), after.clone()));
                }
            }
            let Some((in_path, suffix)) = local(before) else {
                if before != after {
                    problems.push(format!("{logical}: external `{before}` became `{after}`"));
                }
                continue;
            };
            let Some(target) = resolve(&site, logical, in_path) else {
                unresolved_in_source.insert((logical.clone(), before.clone()));
                if before != after {
                    problems.push(format!("{logical}: unresolved `{before}` became `{after}`"));
                }
                continue;
            };
            // The output reference names the output file of the same logical file, with the
            // same query and fragment.
            let names = local(after).and_then(|(out_path, out_suffix)| {
                let file = resolve(&build, &path, out_path)?;
                Some((logical_of.get(&file)?.clone(), out_suffix))
            });
            if names != Some((target.clone(), suffix)) {
                problems.push(format!(
                    "{logical}: `{before}` (`{target}`) became `{after}` ({names:?})"
                ));
            }
        }
    }
    eprintln!(
        "real-world corpus: {pairs} references in {} files, {rewritten} rewritten; \
         unresolved in the source (left as written): {unresolved_in_source:#?}",
        source_refs.len()
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        pairs > 100,
        "only {pairs} references: the corpus did not load"
    );
    assert!(rewritten > 50, "only {rewritten} references rewritten");
    assert_eq!(
        unresolved_in_output, unresolved_in_source,
        "what names no file in the output is exactly what named none in the packages"
    );

    let css = served("pkg/fortawesome-fontawesome-free-6.5.2/css/all.min.css");
    assert_ne!(
        css, "pkg/fortawesome-fontawesome-free-6.5.2/css/all.min.css",
        "fingerprinted"
    );
    let text = fs::read_to_string(build.join(&css)).unwrap();
    let font = served("pkg/fortawesome-fontawesome-free-6.5.2/webfonts/fa-solid-900.woff2");
    assert!(
        text.contains(font.rsplit('/').next().unwrap()),
        "the font reference in all.min.css was rewritten"
    );
}

// ---------------------------------------------------------------------------------------
// The tools of issue 17, each site built with the flags README gives for it.

/// Where the tools are installed once: `target/tmp/realworld/`.
fn tools_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("realworld");
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Installs run one at a time: the tests run in parallel and share the tools.
static INSTALL: Mutex<()> = Mutex::new(());

/// The virtualenv holding `tests/realworld/requirements.txt` (every package pinned),
/// installed again only when that file changed.
fn python_tools() -> PathBuf {
    let _lock = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let venv = tools_dir().join("venv");
    let requirements = repo("tests/realworld/requirements.txt");
    let stamp = venv.join("assetc-requirements.txt");
    if fs::read(&stamp).ok() != Some(fs::read(&requirements).unwrap()) {
        let _ = fs::remove_dir_all(&venv);
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
        run(Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--no-deps", "-r"])
            .arg(&requirements));
        fs::copy(&requirements, &stamp).unwrap();
    }
    venv
}

/// The Vite project (`tests/realworld/vite/`) with its node_modules, from its lockfile
/// (`npm ci`, again only when the lockfile changed); the sources copied in afresh.
fn vite_project() -> PathBuf {
    let project = tools_dir().join("vite");
    let source = repo("tests/realworld/vite");
    let lock = source.join("package-lock.json");
    let stamp = project.join("node_modules/.assetc-lock.json");
    fs::create_dir_all(&project).unwrap();
    if fs::read(&stamp).ok() != Some(fs::read(&lock).unwrap()) {
        for file in ["package.json", "package-lock.json"] {
            fs::copy(source.join(file), project.join(file)).unwrap();
        }
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&project));
        fs::copy(&lock, &stamp).unwrap();
    }
    for part in ["src", "public"] {
        let _ = fs::remove_dir_all(project.join(part));
        copy_tree(&source.join(part), &project.join(part));
    }
    for file in ["index.html", "vite.config.js"] {
        fs::copy(source.join(file), project.join(file)).unwrap();
    }
    project
}

/// How a Vite build is made.
#[derive(Clone, Copy)]
struct ViteBuild {
    source_maps: bool,
    /// `vite build --base`: `/` or a sub-path such as `/sub/path/`.
    base: &'static str,
}

/// `vite build` of the React app into `out`.
fn vite_site(build: ViteBuild, out: &Path) {
    let _lock = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let project = vite_project();
    run(Command::new(project.join("node_modules/.bin/vite"))
        .args([
            "build",
            "--logLevel",
            "warn",
            "--emptyOutDir",
            "--base",
            build.base,
        ])
        .arg("--outDir")
        .arg(out)
        .env(
            "ASSETC_SOURCEMAP",
            if build.source_maps { "1" } else { "0" },
        )
        .current_dir(&project));
}

/// `mkdocs build` of `tests/realworld/mkdocs/` (Material, search) into `out`.
fn material_site(out: &Path) {
    let venv = python_tools();
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo("tests/realworld/mkdocs"), dir.path());
    run(Command::new(venv.join("bin/mkdocs"))
        .args(["build", "--quiet", "--strict", "--site-dir"])
        .arg(out)
        .env("NO_MKDOCS_2_WARNING", "1")
        .current_dir(dir.path()));
}

/// `sphinx-build` of `tests/realworld/sphinx/` (furo) into `out`.
fn sphinx_site(out: &Path) {
    let venv = python_tools();
    run(Command::new(venv.join("bin/sphinx-build"))
        .args(["-q", "-W", "-b", "html", "-d"])
        .arg(out.with_extension("doctrees"))
        .arg(repo("tests/realworld/sphinx"))
        .arg(out));
}

/// Django's collected admin files in `out/static/` and two pages Django rendered
/// (`tests/realworld/django/render.py`).
fn django_site(out: &Path) {
    let venv = python_tools();
    run(Command::new(venv.join("bin/python"))
        .arg(repo("tests/realworld/django/render.py"))
        .arg(out));
}

/// A site as a tool made it, and what to check of its build.
struct Site<'a> {
    name: &'a str,
    input: &'a Path,
    /// README's flags for it (the test adds `--codings gzip`, which changes no name and
    /// no reference, only the time compression takes).
    flags: &'a [&'a str],
    /// The URL path the build is served under (`--base-url`): `/` or `/docs/`.
    base: &'a str,
    /// References in the output that may name no file: URLs another server answers.
    answered_elsewhere: &'a [&'a str],
    /// The browser's plan (`tests/browser/realworld.mjs`), URLs relative to the origin;
    /// empty for a build without pages.
    pages: Vec<serde_json::Value>,
}

/// Builds `site` with its flags and checks it: no warning or note, every local reference
/// naming a file of the output, and its pages loading cleanly from `assetc serve` and from
/// a plain static server. Returns the directory holding the output, `build/`.
fn check_site(site: Site<'_>) -> tempfile::TempDir {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let build = dir.path().join("build");
    let out = assetc()
        .args(["build", "--input"])
        .arg(site.input)
        .arg("--output")
        .arg(&build)
        .args(["--codings", "gzip"])
        .args(site.flags)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", site.name);
    assert!(
        stderr.contains(" 0 warnings in") && !stderr.contains("note:"),
        "{}: the flags README gives leave warnings or notes:\n{stderr}",
        site.name
    );

    let unresolved = crawl(&build, site.base, site.answered_elsewhere);
    assert!(
        unresolved.is_empty(),
        "{}: local references naming no file of the output:\n{}",
        site.name,
        unresolved.join("\n")
    );
    let logical_of = logical_of(&build);

    if !site.pages.is_empty() {
        let server = Server::serve(dir.path())
            .args(&["--root", build.to_str().unwrap(), "--prefix", site.base])
            .start();
        let origin = format!("http://{}", crate::common::http::Http::addr(&server));
        browse(&site, "assetc serve", &origin, &logical_of);
        drop(server);

        // A plain static host: the output as it is, at the base path.
        let www = dir.path().join("www");
        let at = www.join(site.base.trim_matches('/'));
        fs::create_dir_all(at.parent().unwrap()).unwrap();
        if site.base == "/" {
            std::os::unix::fs::symlink(&build, &www).unwrap();
        } else {
            std::os::unix::fs::symlink(&build, &at).unwrap();
        }
        let host = StaticHost::start(&www);
        browse(&site, "python3 -m http.server", &host.origin, &logical_of);
    }
    eprintln!(
        "{}: checked in {:.1}s",
        site.name,
        started.elapsed().as_secs_f64()
    );
    dir
}

/// The logical path of each served path of the build in `build`.
fn logical_of(build: &Path) -> BTreeMap<String, String> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(build.join("assetc-manifest.json")).unwrap()).unwrap();
    manifest["entries"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(logical, e)| (e["path"].as_str().unwrap().to_owned(), logical.clone()))
        .collect()
}

/// Every local reference the oracle finds in `build` that names no file of it, as
/// `file: reference`; root-relative ones must start with `base`.
fn crawl(build: &Path, base: &str, answered_elsewhere: &[&str]) -> Vec<String> {
    let mut unresolved = Vec::new();
    let mut checked = 0;
    for (file, refs) in oracle(build) {
        for reference in refs {
            let Some((path, _)) = local(&reference) else {
                continue;
            };
            checked += 1;
            if answered_elsewhere.contains(&reference.as_str()) {
                continue;
            }
            let path = match path.strip_prefix('/') {
                Some(rest) => match format!("/{rest}").strip_prefix(base.trim_end_matches('/')) {
                    Some(inside) if inside.is_empty() || inside.starts_with('/') => {
                        format!("/{}", inside.trim_start_matches('/'))
                    }
                    _ => {
                        unresolved.push(format!("{file}: `{reference}` (outside `{base}`)"));
                        continue;
                    }
                },
                None => path.to_owned(),
            };
            if resolve(build, &file, &path).is_none() {
                unresolved.push(format!("{file}: `{reference}`"));
            }
        }
    }
    assert!(
        checked >= 3,
        "only {checked} local references: the crawl read nothing"
    );
    eprintln!(
        "crawled {checked} local references in `{}`",
        build.display()
    );
    unresolved
}

/// Chromium runs one at a time: two cores.
static BROWSER: Mutex<()> = Mutex::new(());

/// Loads `site`'s pages from `origin` in headless Chromium and checks what they did.
fn browse(site: &Site<'_>, server: &str, origin: &str, logical_of: &BTreeMap<String, String>) {
    let _lock = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let pages: Vec<serde_json::Value> = site
        .pages
        .iter()
        .map(|p| {
            let mut p = p.clone();
            p["url"] = format!("{origin}{}", p["url"].as_str().unwrap()).into();
            p
        })
        .collect();
    let plan = tempfile::NamedTempFile::new().unwrap();
    fs::write(
        plan.path(),
        serde_json::json!({ "pages": pages }).to_string(),
    )
    .unwrap();
    let mut child = Command::new("node")
        .arg(repo("tests/browser/realworld.mjs"))
        .arg(plan.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node (`just test-deps` installs it)");
    let status = wait_bounded(&mut child, Duration::from_secs(240));
    let output = child.wait_with_output().unwrap();
    assert!(
        status.is_some_and(|s| s.success()),
        "{} on {server}: the browser run failed ({status:?}):\n{}",
        site.name,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut problems = Vec::new();
    for (page, wanted) in report["pages"].as_array().unwrap().iter().zip(&pages) {
        let url = page["url"].as_str().unwrap();
        for kind in ["failed", "errors"] {
            for problem in page[kind].as_array().unwrap() {
                problems.push(format!("{url}: {}", problem.as_str().unwrap()));
            }
        }
        let checks = ["waitFor", "eval", "search"]
            .iter()
            .filter(|k| wanted.get(**k).is_some())
            .count();
        if page["checks"].as_array().unwrap().len() != checks {
            problems.push(format!("{url}: checks not all passed: {}", page["checks"]));
        }
        // A module evaluated twice: one content under two URLs, or one file of the build
        // under two names (its logical path and its served one).
        let page_url = url.split('#').next().unwrap();
        let mut by_hash: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut by_logical: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        let mut scripts = 0;
        for script in page["scripts"].as_array().unwrap() {
            let script_url = script["url"].as_str().unwrap();
            if script_url == page_url || !script_url.starts_with(origin) {
                continue;
            }
            scripts += 1;
            by_hash
                .entry(script["hash"].as_str().unwrap())
                .or_default()
                .insert(script_url);
            let path = script_url[origin.len()..].split(['?', '#']).next().unwrap();
            let path = path
                .strip_prefix(site.base)
                .unwrap_or(path.trim_start_matches('/'));
            let logical = logical_of
                .get(path)
                .cloned()
                .unwrap_or_else(|| path.to_owned());
            by_logical.entry(logical).or_default().insert(script_url);
        }
        for urls in by_hash.values().chain(by_logical.values()) {
            if urls.len() > 1 {
                problems.push(format!("{url}: one module evaluated under {urls:?}"));
            }
        }
        eprintln!(
            "{} on {server}: {url}: {scripts} scripts, {}",
            site.name, page["checks"]
        );
    }
    assert!(
        problems.is_empty(),
        "{} on {server}:\n{}",
        site.name,
        problems.join("\n")
    );
}

/// Waits for `child` at most `limit`; kills it (the process this test started) after that.
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

/// `python3 -m http.server` over a directory, on 127.0.0.1 and a free port: a static host
/// that knows nothing of assetc, as nginx, a CDN or a bucket.
struct StaticHost {
    child: Child,
    origin: String,
}

impl StaticHost {
    fn start(dir: &Path) -> Self {
        let mut child = Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run python3 -m http.server");
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(crate::common::TIMEOUT)
            .expect("http.server announces its port");
        let port = line
            .split(" port ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no port in `{line}`"));
        Self {
            child,
            origin: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for StaticHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Vite app's two pages: the home route, and the lazy route (its own chunk and CSS,
/// which import the entry chunk back). The app counts its boots.
fn vite_pages(base: &str) -> Vec<serde_json::Value> {
    let booted_once = "window.__assetcBoots === 1";
    vec![
        serde_json::json!({
            "url": base,
            "waitFor": "#home",
            "eval": format!("{booted_once} && document.querySelector('img.logo').naturalWidth > 0"),
        }),
        serde_json::json!({
            "url": format!("{base}#/about"),
            "waitFor": "#about",
            // The lazy route's CSS, which only the preload list names, applied.
            "eval": format!("{booted_once} && getComputedStyle(document.querySelector('.about')).borderTopWidth === '1px'"),
        }),
    ]
}

fn check_vite(build: ViteBuild, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    vite_site(build, &dist);
    // Vite names what it emits `[name]-[hash].[ext]` under `assets/` (maps `….js.map`).
    let mut flags = vec!["--already-hashed", "assets/*-????????.*"];
    if build.base != "/" {
        flags.extend(["--base-url", build.base]);
    }
    check_site(Site {
        name,
        input: &dist,
        flags: &flags,
        base: build.base,
        answered_elsewhere: &[],
        pages: vite_pages(build.base),
    });
}

#[test]
fn vite_react_app_without_source_maps() {
    check_vite(
        ViteBuild {
            source_maps: false,
            base: "/",
        },
        "vite",
    );
}

#[test]
fn vite_react_app_with_source_maps() {
    check_vite(
        ViteBuild {
            source_maps: true,
            base: "/",
        },
        "vite --sourcemap",
    );
}

#[test]
fn vite_react_app_under_a_sub_path_with_source_maps() {
    check_vite(
        ViteBuild {
            source_maps: true,
            base: "/sub/path/",
        },
        "vite --base /sub/path/ --sourcemap",
    );
}

#[test]
fn material_for_mkdocs_with_search() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    material_site(&site);
    check_site(Site {
        name: "material for mkdocs",
        input: &site,
        flags: &[
            // `site_url: http://127.0.0.1/docs/`: the site lives under /docs/.
            "--base-url",
            "/docs/",
            "--already-hashed",
            "assets/**/*.????????.min.*",
            "--entry-point",
            "search/**",
            "--entry-point",
            "assets/javascripts/lunr/**",
            "--entry-point",
            "sitemap.xml.gz",
        ],
        base: "/docs/",
        answered_elsewhere: &[],
        pages: vec![
            serde_json::json!({
                "url": "/docs/",
                "search": {
                    "input": "input.md-search__input",
                    "query": "zeppelin",
                    "results": ".md-search-result__item",
                },
            }),
            serde_json::json!({ "url": "/docs/guide/intro/", "waitFor": "pre code" }),
        ],
    });
}

#[test]
fn sphinx_with_furo() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("html");
    sphinx_site(&html);
    check_site(Site {
        name: "sphinx + furo",
        input: &html,
        flags: &[
            "--entry-point",
            "objects.inv",
            "--entry-point",
            "_static/minus.png",
            "--entry-point",
            "_static/plus.png",
        ],
        base: "/",
        answered_elsewhere: &[],
        pages: vec![
            serde_json::json!({ "url": "/guide/intro.html", "waitFor": ".sidebar-brand" }),
            serde_json::json!({
                "url": "/search.html?q=zeppelin",
                "search": { "query": "zeppelin", "results": "#search-results li" },
            }),
        ],
    });
}

#[test]
fn django_admin_static_files_and_two_rendered_pages() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    django_site(&site);
    // What `collectstatic` gives, as README says to build it: served under STATIC_URL.
    let built = check_site(Site {
        name: "django collectstatic",
        input: &site.join("static"),
        flags: &["--base-url", "/static/"],
        base: "/static/",
        answered_elsewhere: &[],
        pages: Vec::new(),
    });
    // Django renders its pages through the manifest with the storage README gives
    // (`realworld/django/assetc_storage.py`); a static host serves the build at /static/.
    let build = built.path().join("build");
    let www = dir.path().join("www");
    run(Command::new(python_tools().join("bin/python"))
        .arg(repo("tests/realworld/django/render.py"))
        .arg(&www)
        .arg(build.join("assetc-manifest.json")));
    let login = fs::read_to_string(www.join("admin/login/index.html")).unwrap();
    let css = logical_of(&build)
        .into_iter()
        .find(|(_, logical)| logical == "admin/css/base.css")
        .unwrap()
        .0;
    assert!(
        login.contains(&format!("href=\"/static/{css}\"")),
        "{login}"
    );
    std::os::unix::fs::symlink(&build, www.join("static")).unwrap();
    let host = StaticHost::start(&www);
    let rendered = Site {
        name: "django pages rendered through the manifest",
        input: &www,
        flags: &[],
        base: "/static/",
        answered_elsewhere: &[],
        pages: django_pages(),
    };
    browse(
        &rendered,
        "python3 -m http.server",
        &host.origin,
        &logical_of(&build),
    );
    // With the pages Django rendered beside them (a static export), in a browser.
    check_site(Site {
        name: "django admin pages",
        input: &site,
        flags: &["--ignore-reference", "/admin/**"],
        base: "/",
        answered_elsewhere: &["/admin/"],
        pages: django_pages(),
    });
}

fn django_pages() -> Vec<serde_json::Value> {
    vec![
        serde_json::json!({ "url": "/admin/login/", "waitFor": "#login-form" }),
        // DateTimeShortcuts.js (with the catalog's gettext) adds the calendar and clock.
        serde_json::json!({ "url": "/widgets/", "waitFor": ".datetimeshortcuts" }),
    ]
}
