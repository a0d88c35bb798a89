//! Real published front-end packages, fetched at pinned versions from the npm registry and
//! PyPI (cached under `target/tmp/corpus`), built, and crawled by an oracle that shares no
//! code with assetc (`realworld/refs.py`: Python's html.parser, regular expressions): every
//! reference in the output, mapped back through the manifest, names the same file as the
//! reference it was written from, and what did not resolve in the packages is left exactly
//! as written. Compiled only with `--features realworld` (`just test-realworld`), since it
//! downloads the packages.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

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
