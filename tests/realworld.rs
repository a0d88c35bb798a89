//! Real published front-end packages, fetched at pinned versions from the npm registry and
//! PyPI (cached under `target/tmp/corpus`), built, and crawled: every local reference in the
//! HTML, CSS, JS and source maps of the output must resolve to a file of the build.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use assetc_core::url_ref::{classify, Reference};
use assetc_core::LogicalPath;
use assetc_pipeline::references::{rewrite, Edit, Format};

use crate::common::assetc;

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
    let venv = cache.join("venv");
    if !venv.join("bin/mkdocs").exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
        run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "mkdocs==1.6.1"]));
    }
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

fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every local reference in the scannable files under `root`: how many, and those that do
/// not resolve to a file (or, for pages, a directory index).
fn crawl(root: &Path) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut unresolved = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if rel.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(logical) = LogicalPath::new(rel.clone()) else {
                continue;
            };
            let format = Format::of(&logical);
            if format == Format::Opaque {
                continue;
            }
            let bytes = fs::read(&path).unwrap();
            let _ = rewrite(format, &bytes, "utf-8", |r| {
                if let Reference::Local(local) = classify(&r.value) {
                    let decoded = local.decoded_path().unwrap_or_default();
                    checked += 1;
                    let found = logical.resolve(&decoded).ok().is_some_and(|target| {
                        let t = root.join(target.as_str());
                        t.is_file() || root.join(format!("{target}.html")).is_file()
                    });
                    // `%23` read as a fragment, as the build reads it.
                    let found = found
                        || local.with_encoded_fragment().is_some_and(|split| {
                            let d = split.decoded_path().unwrap_or_default();
                            logical
                                .resolve(&d)
                                .is_ok_and(|t| root.join(t.as_str()).is_file())
                        });
                    if !found {
                        unresolved.push(format!("{rel}: {}", r.value));
                    }
                }
                Edit::default()
            });
        }
    }
    unresolved.sort();
    (checked, unresolved)
}

#[test]
fn real_packages_build_and_every_reference_in_the_output_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("assets");
    fs::create_dir_all(&site).unwrap();
    npm_site(&site);
    let docs = site.join("docs");
    fs::create_dir_all(&docs).unwrap();
    mkdocs_site(&docs);

    let (source_checked, source_unresolved) = crawl(&site);
    let out = assetc()
        .current_dir(dir.path())
        .args([
            "build",
            "--input",
            "assets",
            "--output",
            "build",
            "--codings",
            "gzip",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (checked, unresolved) = crawl(&dir.path().join("build"));
    eprintln!(
        "real-world corpus: {checked} local references checked in the build ({source_checked} in the source); {} unresolved in the source, {} in the build",
        source_unresolved.len(),
        unresolved.len()
    );
    eprintln!(
        "unresolved in the source (left as written):\n{}",
        source_unresolved.join("\n")
    );
    assert!(
        checked > 100,
        "only {checked} references: the corpus did not load"
    );
    assert_eq!(checked, source_checked, "references appeared or vanished");
    // Whatever did not resolve in the packages themselves stays as written, and nothing else breaks.
    assert_eq!(
        unresolved.len(),
        source_unresolved.len(),
        "broken by the build:\n{}",
        unresolved.join("\n")
    );

    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("build/assetc-manifest.json")).unwrap())
            .unwrap();
    let css = manifest["entries"]["pkg/fortawesome-fontawesome-free-6.5.2/css/all.min.css"]["path"]
        .as_str()
        .unwrap();
    assert_ne!(
        css, "pkg/fortawesome-fontawesome-free-6.5.2/css/all.min.css",
        "fingerprinted"
    );
    let text = fs::read_to_string(dir.path().join("build").join(css)).unwrap();
    let font = manifest["entries"]
        ["pkg/fortawesome-fontawesome-free-6.5.2/webfonts/fa-solid-900.woff2"]["path"]
        .as_str()
        .unwrap();
    assert!(
        text.contains(font.rsplit('/').next().unwrap()),
        "the font reference in all.min.css was rewritten"
    );
}
