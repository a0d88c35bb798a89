//! `assetc explain`: why names changed between generations, from the build directory alone
//! (a copy without the sources too), in words and as the `--json` documented in
//! ARCHITECTURE.md; `--changed` grouped by root cause with exact byte counts. And `assetc
//! report`'s file: self-contained, outside the build, opened with `xdg-open` when asked
//! (its rendering in Chromium is `tests/browser/report.test.mjs`).

use std::collections::BTreeSet;
use std::fs;

use std::time::{Duration, Instant};

use crate::common::{assetc, copy_tree, Tree};

/// The kept generations' ids, newest first.
fn generations(t: &Tree) -> Vec<String> {
    let record: serde_json::Value =
        serde_json::from_str(&t.read(".assetc/generations.json")).unwrap();
    record["generations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// Deterministic bytes that do not compress: a stand-in for a font.
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Two pages sharing a stylesheet, which uses a web font at `css/site.css:4:12`.
const CSS: &str = "body { margin: 0 }\n@font-face {\n  font-family: body;\n  src: url(../fonts/body.woff2) format(\"woff2\");\n}\n";

fn font_site(t: &Tree, font: &[u8]) {
    t.file("css/site.css", CSS)
        .file("fonts/body.woff2", font)
        .file(
            "index.html",
            "<!doctype html>\n<title>Home</title>\n<link rel=stylesheet href=\"css/site.css\">\n<a href=about.html>About</a>\n",
        )
        .file(
            "about.html",
            "<!doctype html>\n<title>About</title>\n\n<link rel=stylesheet href=\"css/site.css\">\n",
        );
}

#[test]
fn a_font_change_is_explained_through_its_css_to_the_pages() {
    let t = Tree::new();
    font_site(&t, &noise(12_345, 1));
    t.build(&[]).success();
    let (old_css, old_font) = (t.served("css/site.css"), t.served("fonts/body.woff2"));
    font_site(&t, &noise(12_401, 2));
    t.build(&[]).success();
    let (css, font) = (t.served("css/site.css"), t.served("fonts/body.woff2"));
    let ids = generations(&t);
    let index_size = |m: &serde_json::Value| m["entries"]["index.html"]["size"].as_u64().unwrap();
    let new_index = index_size(&t.manifest());
    let old_manifest = json(&t.read(&format!(".assetc/generations/{}.json", ids[1])));
    let old_index = index_size(&old_manifest);

    let run = t.run(&["explain", "index.html"]);
    run.success();
    assert_eq!(
        run.stdout(),
        format!(
            "index.html: same path, new bytes ({old_index} → {new_index} bytes), revalidated\n\
             \x20 because it references css/site.css at index.html:3:28\n\
             \x20   css/site.css: renamed {old_css} → {css}\n\
             \x20     because it references fonts/body.woff2 at css/site.css:4:12\n\
             \x20       fonts/body.woff2: renamed {old_font} → {font}\n\
             \x20         because its own bytes changed (12,345 → 12,401 bytes)\n\
             root cause: fonts/body.woff2: its own bytes changed (12,345 → 12,401 bytes)\n\
             (generation {} since {})\n",
            ids[0], ids[1]
        )
    );
    assert_eq!(run.stderr(), "");

    // The other page's reference is on its line 4; the CSS is named by its served path too.
    let about = t.run(&["explain", "about.html"]);
    assert!(
        about
            .success()
            .stdout()
            .contains("  because it references css/site.css at about.html:4:28\n"),
        "{}",
        about.stdout()
    );
    let by_served = t.run(&["explain", &format!("/{css}")]);
    assert!(by_served
        .success()
        .stdout()
        .starts_with(&format!("css/site.css: renamed {old_css} → {css}\n")));

    // The same chain as JSON: the file, and every file its reasons lead to.
    let e = json(
        &t.run(&["explain", "index.html", "--json"])
            .success()
            .stdout(),
    );
    assert_eq!(e["version"], 1);
    assert_eq!(e["generations"]["new"], ids[0].as_str());
    assert_eq!(e["generations"]["old"], ids[1].as_str());
    assert_eq!(e["recorded"], true);
    assert_eq!(e["path"], "index.html");
    assert_eq!(e["status"], "changed");
    let files: Vec<&String> = e["files"].as_object().unwrap().keys().collect();
    assert_eq!(files, ["css/site.css", "fonts/body.woff2", "index.html"]);
    assert_eq!(
        e["files"]["index.html"]["reasons"],
        serde_json::json!([{"kind": "reference", "target": "css/site.css",
            "at": [{"file": "index.html", "line": 3, "column": 28}]}])
    );
    assert_eq!(
        e["files"]["css/site.css"]["reasons"],
        serde_json::json!([{"kind": "reference", "target": "fonts/body.woff2",
            "at": [{"file": "css/site.css", "line": 4, "column": 12}]}])
    );
    let font_reason = &e["files"]["fonts/body.woff2"]["reasons"][0];
    assert_eq!(font_reason["kind"], "bytes");
    assert_eq!(font_reason["old_size"], 12_345);
    assert_eq!(font_reason["new_size"], 12_401);
    assert_eq!(font_reason["recorded"], true);
    assert_eq!(e["files"]["css/site.css"]["old"]["path"], old_css.as_str());
    assert_eq!(e["files"]["css/site.css"]["new"]["path"], css.as_str());
    assert_eq!(
        e["root_causes"],
        serde_json::json!([{"kind": "bytes", "path": "fonts/body.woff2",
            "old_size": 12_345, "new_size": 12_401}])
    );

    // The reverse question: both renamed files under the font, the pages revalidated.
    let changed = t.run(&["explain", "--changed"]);
    let font_best = 12_401;
    let css_best = t.manifest()["entries"]["css/site.css"]["size"]
        .as_u64()
        .unwrap();
    let about_best = t.manifest()["entries"]["about.html"]["size"]
        .as_u64()
        .unwrap();
    let total = font_best + css_best;
    assert_eq!(
        changed.success().stdout(),
        format!(
            "2 files renamed since generation {}: a returning visitor downloads {} bytes again (best variants)\n\
             \n\
             root cause fonts/body.woff2: its own bytes changed (12,345 → 12,401 bytes)\n\
             \x20 renamed, {} bytes to download again:\n\
             \x20   css/site.css      {:>11} bytes (identity)\n\
             \x20   fonts/body.woff2  {:>11} bytes (identity)\n\
             \x20 same path, new bytes ({} bytes, revalidated):\n\
             \x20   about.html        {:>11} bytes (identity)\n\
             \x20   index.html        {:>11} bytes (identity)\n",
            ids[1],
            grouped(total),
            grouped(total),
            css_best,
            "12,401",
            grouped(about_best + new_index),
            about_best,
            new_index,
        )
    );
}

fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn a_copied_build_is_explained_without_its_sources() {
    let t = Tree::new();
    font_site(&t, &noise(2_000, 1));
    t.build(&[]).success();
    font_site(&t, &noise(2_100, 2));
    t.build(&[]).success();
    let here = t
        .run(&["explain", "about.html", "--json"])
        .success()
        .stdout();
    let copy = t.root().join("elsewhere");
    copy_tree(&t.output(), &copy);
    fs::remove_dir_all(t.input()).unwrap();
    fs::remove_dir_all(t.output()).unwrap();
    let there = t.run(&["explain", "--root", "elsewhere", "about.html", "--json"]);
    assert_eq!(there.success().stdout(), here);
}

#[test]
fn a_change_that_renames_nothing_says_so() {
    let t = Tree::new();
    font_site(&t, &noise(500, 1));
    t.build(&[]).success();
    let (before, after) = (
        "<!doctype html>\n<title>About</title>\n\n<link rel=stylesheet href=\"css/site.css\">\n",
        "<!doctype html>\n<title>About us</title>\n\n<link rel=stylesheet href=\"css/site.css\">\n",
    );
    t.file("about.html", after);
    t.build(&[]).success();
    let ids = generations(&t);
    let size = t.manifest()["entries"]["about.html"]["size"]
        .as_u64()
        .unwrap();
    assert_eq!(
        t.run(&["explain", "--changed"]).success().stdout(),
        format!(
            "nothing renamed since generation {}\n\
             \n\
             root cause about.html: its own bytes changed ({} → {} bytes)\n\
             \x20 same path, new bytes ({size} bytes, revalidated):\n\
             \x20   about.html  {size:>11} bytes (identity)\n",
            ids[1],
            before.len(),
            after.len()
        )
    );
    let c = json(
        &t.run(&["explain", "--changed", "--json"])
            .success()
            .stdout(),
    );
    assert_eq!(c["renamed"], serde_json::json!([]));
    assert_eq!(c["bytes"], 0);
    assert_eq!(c["revalidated"], serde_json::json!(["about.html"]));
    assert_eq!(c["revalidated_bytes"], size);

    let css = t.served("css/site.css");
    assert_eq!(
        t.run(&["explain", "css/site.css"]).success().stdout(),
        format!(
            "css/site.css: unchanged ({css})\nnothing it depends on changed\n(generation {} since {})\n",
            ids[0], ids[1]
        )
    );
}

#[test]
fn a_cycle_is_renamed_as_one_unit_through_the_member_that_changed() {
    let t = Tree::new();
    let site = |t: &Tree, b: &str| {
        t.file(
            "js/a.js",
            "import { b } from './b.js';\nexport const a = 1;\n",
        )
        .file(
            "js/b.js",
            format!("import {{ a }} from './a.js';\nexport const b = {b};\n"),
        )
        .file("index.html", "<script type=module src=js/a.js></script>\n");
    };
    site(&t, "1");
    t.build(&[]).success();
    let (old_a, old_b) = (t.served("js/a.js"), t.served("js/b.js"));
    site(&t, "22");
    t.build(&[]).success();
    let (a, b) = (t.served("js/a.js"), t.served("js/b.js"));
    let ids = generations(&t);
    let b_source =
        |v: &str| format!("import {{ a }} from './a.js';\nexport const b = {v};\n").len();
    assert_eq!(
        t.run(&["explain", "js/a.js"]).success().stdout(),
        format!(
            "js/a.js: renamed {old_a} → {a}\n\
             \x20 because it is in a reference cycle named as one unit (js/a.js, js/b.js), and js/b.js changed\n\
             \x20   js/b.js: renamed {old_b} → {b}\n\
             \x20     because its own bytes changed ({} → {} bytes)\n\
             root cause: js/b.js: its own bytes changed ({} → {} bytes)\n\
             (generation {} since {})\n",
            b_source("1"),
            b_source("22"),
            b_source("1"),
            b_source("22"),
            ids[0],
            ids[1]
        )
    );
    // b.js's own reason is its bytes; its reference to a.js (in the cycle) is no reason.
    let e = json(&t.run(&["explain", "js/b.js", "--json"]).success().stdout());
    assert_eq!(
        e["files"]["js/b.js"]["reasons"].as_array().unwrap().len(),
        1
    );
    assert_eq!(e["files"]["js/b.js"]["reasons"][0]["kind"], "bytes");
    let c = json(
        &t.run(&["explain", "--changed", "--json"])
            .success()
            .stdout(),
    );
    assert_eq!(c["renamed"], serde_json::json!(["js/a.js", "js/b.js"]));
    assert_eq!(c["revalidated"], serde_json::json!(["index.html"]));
    assert_eq!(c["groups"].as_array().unwrap().len(), 1);
    assert_eq!(c["groups"][0]["cause"]["path"], "js/b.js");
}

/// The smallest representation of a manifest entry, computed here from the manifest.
fn best_size(entry: &serde_json::Value) -> u64 {
    let variants = entry["variants"].as_object().unwrap();
    // Not the dictionary deltas (`dcb:<sha>`): only a visitor holding that one old version
    // gets those, and explain counts what any returning visitor downloads.
    variants
        .iter()
        .filter(|(coding, _)| !coding.contains(':'))
        .map(|(_, v)| v["size"].as_u64().unwrap())
        .chain([entry["size"].as_u64().unwrap()])
        .min()
        .unwrap()
}

#[test]
fn changed_counts_the_best_variants_of_the_renamed_files_per_root_cause() {
    let t = Tree::new();
    let prose = |word: &str| {
        (0..200)
            .map(|i| format!(".r{i} {{ content: \"{word} {i}\" }}\n"))
            .collect::<String>()
    };
    let site = |t: &Tree, theme: &str, logo: u32| {
        t.file(
            "css/site.css",
            format!("@import \"theme.css\";\nbody {{ background: url(../img/logo.png) }}\n{}", prose("site")),
        )
        .file("css/theme.css", prose(theme))
        .file("css/print.css", prose("print"))
        .file("img/logo.png", noise(3_000, logo))
        .file("js/app.js", format!("console.log({:?});\n", prose("app")))
        .file(
            "index.html",
            "<link rel=stylesheet href=css/site.css><link rel=stylesheet href=css/print.css><script src=js/app.js></script>\n",
        );
    };
    site(&t, "dark", 1);
    t.build(&[]).success();
    let old = t.manifest();
    // Two root causes: the theme's own bytes and the logo's; site.css has both.
    site(&t, "light", 2);
    t.build(&[]).success();
    let new = t.manifest();

    let c = json(
        &t.run(&["explain", "--changed", "--json"])
            .success()
            .stdout(),
    );
    let renamed: BTreeSet<&str> = new["entries"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, e)| old["entries"][k.as_str()]["path"] != e["path"])
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        renamed,
        BTreeSet::from(["css/site.css", "css/theme.css", "img/logo.png"])
    );
    assert!(
        !new["entries"]["css/site.css"]["variants"]
            .as_object()
            .unwrap()
            .is_empty(),
        "the text files are compressed, so best variants are not the identity"
    );
    let best = |p: &str| best_size(&new["entries"][p]);
    assert_eq!(
        c["bytes"],
        best("css/site.css") + best("css/theme.css") + best("img/logo.png")
    );
    let groups = c["groups"].as_array().unwrap();
    let group = |path: &str| {
        groups
            .iter()
            .find(|g| g["cause"]["path"] == path)
            .unwrap_or_else(|| panic!("no group for `{path}`: {c:#}"))
    };
    assert_eq!(groups.len(), 2);
    let theme = group("css/theme.css");
    assert_eq!(theme["cause"]["kind"], "bytes");
    assert_eq!(theme["bytes"], best("css/site.css") + best("css/theme.css"));
    let logo = group("img/logo.png");
    assert_eq!(logo["bytes"], best("css/site.css") + best("img/logo.png"));
    for g in groups {
        let listed: u64 = g["renamed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                assert_eq!(d["size"], best(d["path"].as_str().unwrap()));
                assert_eq!(
                    d["served"],
                    new["entries"][d["path"].as_str().unwrap()]["path"]
                );
                d["size"].as_u64().unwrap()
            })
            .sum();
        assert_eq!(g["bytes"], listed);
        assert_eq!(
            g["revalidated"][0]["path"], "index.html",
            "the page is revalidated because of both"
        );
    }
    // Most bytes first: the logo's noise does not compress, the theme does.
    assert_eq!(groups[0]["cause"]["path"], "img/logo.png");
    assert!(groups[0]["bytes"].as_u64() > groups[1]["bytes"].as_u64());
}

#[test]
fn a_generation_without_a_reference_record_is_explained_without_positions() {
    let t = Tree::new();
    font_site(&t, &noise(800, 1));
    t.build(&[]).success();
    let first = generations(&t)[0].clone();
    // As if built by an assetc from before reference records.
    fs::remove_file(
        t.output()
            .join(format!(".assetc/generations/{first}.refs.json")),
    )
    .unwrap();
    font_site(&t, &noise(900, 2));
    t.build(&[]).success();
    assert!(
        !t.output()
            .join(format!(".assetc/generations/{first}.refs.json"))
            .exists(),
        "nothing is invented for the old generation"
    );
    let out = t.run(&["explain", "css/site.css"]).success().stdout();
    assert!(
        out.contains("  because it references fonts/body.woff2 at css/site.css:4:12\n"),
        "the newer generation's record has the positions: {out}"
    );
    assert!(
        out.contains("because its bytes changed (800 → 900 bytes; not recorded whether its own source did: a generation has no reference record)"),
        "{out}"
    );
    let e = json(
        &t.run(&["explain", "css/site.css", "--json"])
            .success()
            .stdout(),
    );
    assert_eq!(e["recorded"], false);

    // Neither generation recorded: no positions to give.
    let newest = generations(&t)[0].clone();
    fs::remove_file(
        t.output()
            .join(format!(".assetc/generations/{newest}.refs.json")),
    )
    .unwrap();
    let out = t.run(&["explain", "css/site.css"]).success().stdout();
    assert!(
        out.contains("  because it references fonts/body.woff2 (position not recorded)\n"),
        "{out}"
    );
}

#[test]
fn refusals_name_what_is_wrong_and_what_to_do() {
    let t = Tree::new();
    font_site(&t, &noise(100, 1));
    t.build(&[]).success();
    let one = t.run(&["explain", "index.html"]);
    one.failure(1);
    let id = &generations(&t)[0];
    assert_eq!(
        one.stderr(),
        format!("error: `build` keeps one generation (`{id}`), so there is nothing to compare it with\nhint: build again after a change: each build keeps the previous ones (`--keep`, `--keep-age`)\n")
    );
    assert_eq!(one.stdout(), "");

    font_site(&t, &noise(100, 2));
    t.build(&[]).success();
    let ids = generations(&t);
    let missing = t.run(&["explain", "site.css"]);
    missing.failure(1);
    assert_eq!(
        missing.stderr(),
        format!("error: `site.css` is in neither generation (`{}` nor `{}`) of `build`\nhint: give a logical path as the manifest has it: did you mean `css/site.css`?\n", ids[0], ids[1])
    );
    let since = t.run(&["explain", "--changed", "--since", "nope"]);
    since.failure(1);
    assert_eq!(
        since.stderr(),
        format!(
            "error: generation `nope` is not kept in `build`\nhint: kept: `{}`, `{}`\n",
            ids[0], ids[1]
        )
    );
    let newest = t.run(&["explain", "--changed", "--since", &ids[0]]);
    newest.failure(1);
    assert!(newest.stderr().starts_with(&format!(
        "error: `{}` is the newest generation of `build`\n",
        ids[0]
    )));
    // A unique prefix of the older id is enough.
    let prefix = t.run(&["explain", "--changed", "--since", &ids[1][..6], "--json"]);
    assert_eq!(
        json(&prefix.success().stdout())["generations"]["old"],
        ids[1].as_str()
    );

    // Usage errors: clap's exit 2.
    t.run(&["explain"]).failure(2);
    t.run(&["explain", "index.html", "--changed"]).failure(2);
    let nothing = t.run(&["explain", "--root", "absent", "--changed"]);
    nothing.failure(1);
    assert!(
        nothing
            .stderr()
            .starts_with("error: cannot explain `absent`: "),
        "{}",
        nothing.stderr()
    );
}

#[test]
fn clean_removes_the_reference_records_of_the_generations_it_drops() {
    let t = Tree::new();
    for v in 1..=3u32 {
        font_site(&t, &noise(100, v));
        t.build(&[]).success();
    }
    let ids = generations(&t);
    assert_eq!(ids.len(), 3);
    let refs = |id: &str| {
        t.output()
            .join(format!(".assetc/generations/{id}.refs.json"))
    };
    assert!(ids.iter().all(|id| refs(id).exists()));
    t.run(&["clean", "--root", "build", "--keep", "1", "--age", "0s"])
        .success();
    assert!(refs(&ids[0]).exists());
    assert!(!refs(&ids[1]).exists() && !refs(&ids[2]).exists());
    t.verify().success();
}

/// The keys ARCHITECTURE.md documents in the table under `heading` (first column, as
/// dotted paths: `files.*` for a map keyed by logical path, `[]` for an array's items).
fn documented(doc: &str, heading: &str) -> BTreeSet<String> {
    let section = doc
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("ARCHITECTURE.md has a heading `{heading}`"));
    section
        .split("\n#")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect()
}

/// Every key of `v` at every level, as ARCHITECTURE.md writes them.
fn keys(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let name = if prefix == "files" { "*" } else { k.as_str() };
                let path = if prefix.is_empty() {
                    name.to_owned()
                } else {
                    format!("{prefix}.{name}")
                };
                out.insert(path.clone());
                keys(v, &path, out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                keys(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// Every key `assetc explain --json` writes, at every level, is in ARCHITECTURE.md's
/// schema of it, and every key documented there is written by one of the runs here.
#[test]
fn the_json_is_the_schema_architecture_md_documents() {
    let doc = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ARCHITECTURE.md")).unwrap();

    // A font change (bytes, references), a cycle, a removed file (dropped), an added one,
    // and a new base URL (settings, for a stylesheet whose image did not change).
    let t = Tree::new();
    font_site(&t, &noise(100, 1));
    t.file("js/a.js", "import './b.js';\n")
        .file("js/b.js", "import './a.js'; 1\n")
        .file("css/gone.css", "a { background: url(../img/x.png) }\n")
        .file("img/x.png", "x")
        .file("css/plain.css", "p { background: url(../img/keep.png) }\n")
        .file("img/keep.png", "keep")
        .file(
            "page.html",
            "<link rel=stylesheet href=css/gone.css><script type=module src=js/a.js></script><link rel=stylesheet href=css/plain.css>\n",
        );
    t.build(&[]).success();
    font_site(&t, &noise(100, 2));
    t.file("js/b.js", "import './a.js'; 2\n")
        .file("img/new.png", "new")
        .remove("img/x.png");
    t.build(&["--base-url", "/static/"]).success();
    let mut written = BTreeSet::new();
    for path in [
        "index.html",
        "js/a.js",
        "css/gone.css",
        "css/plain.css",
        "img/new.png",
    ] {
        let out = t.run(&["explain", path, "--json"]);
        keys(&json(&out.success().stdout()), "", &mut written);
    }
    let plain = json(
        &t.run(&["explain", "css/plain.css", "--json"])
            .success()
            .stdout(),
    );
    assert_eq!(
        plain["files"]["css/plain.css"]["reasons"],
        serde_json::json!([{"kind": "settings"}])
    );
    assert_eq!(
        plain["root_causes"],
        serde_json::json!([{"kind": "settings"}])
    );
    let gone = json(
        &t.run(&["explain", "css/gone.css", "--json"])
            .success()
            .stdout(),
    );
    assert_eq!(
        gone["files"]["css/gone.css"]["reasons"],
        serde_json::json!([{"kind": "dropped", "target": "img/x.png",
            "at": [{"file": "css/gone.css", "line": 1, "column": 21}]}])
    );
    assert_eq!(gone["files"]["img/x.png"]["status"], "removed");
    assert_eq!(gone["files"]["img/x.png"]["new"], serde_json::Value::Null);
    assert_eq!(
        written,
        documented(&doc, "### `assetc explain PATH --json`"),
        "keys written (left) and documented in ARCHITECTURE.md (right) differ"
    );

    let mut changed = BTreeSet::new();
    keys(
        &json(
            &t.run(&["explain", "--changed", "--json"])
                .success()
                .stdout(),
        ),
        "",
        &mut changed,
    );
    assert_eq!(
        changed,
        documented(&doc, "### `assetc explain --changed --json`"),
        "keys written (left) and documented in ARCHITECTURE.md (right) differ"
    );
}

#[test]
fn report_is_one_self_contained_file_outside_the_build() {
    let t = Tree::new();
    font_site(&t, &noise(3_000, 1));
    t.build(&[]).success();
    font_site(&t, &noise(3_000, 2));
    t.build(&[]).success();
    let run = t.run(&["report", "--root", "build"]);
    run.success();
    let html = fs::read_to_string(t.root().join("report.html")).unwrap();
    assert_eq!(
        run.stderr(),
        format!(
            "wrote `report.html` ({:.1} KiB): 4 files of `build`\n",
            html.len() as f64 / 1024.0
        )
    );
    assert_eq!(run.stdout(), "");
    assert!(html.starts_with("<!doctype html>\n"));
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; style-src &#39;sha256-"),
        "a policy that forbids every request"
    );
    // Nothing to fetch: no external resource, every link an anchor in the page.
    // (The script names the SVG namespace, which is no request.)
    let without_namespace = html.replace("'http://www.w3.org/2000/svg'", "");
    for needle in [
        " src=", "<link", "<img", "<iframe", "url(", "@import", "http://", "https://",
    ] {
        assert!(
            !without_namespace.contains(needle),
            "the report has `{needle}`"
        );
    }
    let hrefs: Vec<&str> = html.split("href=\"").skip(1).collect();
    assert!(!hrefs.is_empty());
    assert!(hrefs.iter().all(|h| h.starts_with('#')), "only anchors");
    // The treemap has every file, with identity and best sizes, and marks the renamed ones.
    for logical in t.manifest()["entries"].as_object().unwrap().keys() {
        assert!(
            html.contains(&format!("<title>{logical} · ")),
            "`{logical}` is in the treemap"
        );
    }
    assert!(html.contains("<title>fonts/body.woff2 · 2.9 KiB · not compressed</title>"));
    assert_eq!(
        html.matches(" chg\"").count(),
        4,
        "font, CSS and both pages changed"
    );
    // What changed and why, in words, as `explain` says it.
    let chain = t.run(&["explain", "css/site.css"]).success().stdout();
    let first = chain.lines().next().unwrap();
    assert!(html.contains(first), "the chain of css/site.css: {first}");
    assert!(html.contains("<b>fonts/body.woff2: its own bytes changed (3,000 → 3,000 bytes)</b>"));
    // The report is not part of the build.
    t.verify().success();
}

#[test]
fn report_of_a_build_with_one_generation_says_there_is_nothing_to_compare() {
    let t = Tree::new();
    font_site(&t, &noise(100, 1));
    t.build(&[]).success();
    t.run(&["report", "--output", "out/r.html"]).failure(1);
    fs::create_dir(t.root().join("out")).unwrap();
    t.run(&["report", "--output", "out/r.html"]).success();
    let html = fs::read_to_string(t.root().join("out/r.html")).unwrap();
    assert!(html.contains("This build keeps no previous generation to compare with."));
    assert!(html.contains("A first visit to <b>index.html</b> downloads 3 files"));
}

#[test]
fn report_refuses_to_write_inside_the_build() {
    let t = Tree::new();
    font_site(&t, &noise(100, 1));
    t.build(&[]).success();
    let run = t.run(&["report", "--output", "build/css/report.html"]);
    run.failure(1);
    assert_eq!(
        run.stderr(),
        "error: `build/css/report.html` is inside the build `build`, which is deployed and served\nhint: write the report outside it, such as `--output report.html`\n"
    );
    assert!(!t.output().join("css/report.html").exists());
    let missing = t.run(&["report", "--root", "absent"]);
    missing.failure(1);
    assert!(missing
        .stderr()
        .starts_with("error: cannot report on `absent`: "));
}

#[test]
fn report_open_uses_xdg_open_when_there_is_one() {
    let t = Tree::new();
    font_site(&t, &noise(100, 1));
    t.build(&[]).success();
    let report = fs::canonicalize(t.root()).unwrap().join("report.html");

    let empty = t.root().join("empty-path");
    fs::create_dir(&empty).unwrap();
    let none = assetc()
        .current_dir(t.root())
        .env("PATH", &empty)
        .args(["report", "--open"])
        .output()
        .unwrap();
    assert!(none.status.success());
    assert!(
        String::from_utf8_lossy(&none.stderr).ends_with(&format!(
            "open `{}` in a browser (no `xdg-open` on PATH)\n",
            report.display()
        )),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );

    // A stand-in `xdg-open` that writes down what it was asked to open.
    let bin = t.root().join("bin");
    fs::create_dir(&bin).unwrap();
    let opened = t.root().join("opened.txt");
    let script = bin.join("xdg-open");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > '{}.tmp' && /bin/mv '{0}.tmp' '{0}'\n",
            opened.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let with = assetc()
        .current_dir(t.root())
        .env("PATH", &bin)
        .args(["report", "--open"])
        .output()
        .unwrap();
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !opened.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        fs::read_to_string(&opened).unwrap(),
        report.display().to_string()
    );
}

#[test]
fn an_added_and_a_removed_file_are_root_causes_in_words() {
    let t = Tree::new();
    t.file("css/a.css", "a { background: url(../img/old.png) }\n")
        .file("css/b.css", "b { background: url(../img/new.png) }\n")
        .file("img/old.png", "old")
        .file(
            "index.html",
            "<link rel=stylesheet href=css/a.css><link rel=stylesheet href=css/b.css>\n",
        );
    // `img/new.png` is missing: the reference is left as written, with a warning.
    t.build(&[]).success();
    let (old_a, old_b, old_png) = (
        t.served("css/a.css"),
        t.served("css/b.css"),
        t.served("img/old.png"),
    );
    t.remove("img/old.png").file("img/new.png", "new");
    t.build(&[]).success();
    let (a, b, png) = (
        t.served("css/a.css"),
        t.served("css/b.css"),
        t.served("img/new.png"),
    );
    let ids = generations(&t);
    let footer = format!("(generation {} since {})\n", ids[0], ids[1]);
    assert_eq!(
        t.run(&["explain", "css/a.css"]).success().stdout(),
        format!(
            "css/a.css: renamed {old_a} → {a}\n\
             \x20 because it referenced img/old.png at css/a.css:1:21, which is gone (the reference is now left as written)\n\
             \x20   img/old.png: removed (it was {old_png})\n\
             root cause: img/old.png: removed (it had 3 bytes)\n{footer}"
        )
    );
    assert_eq!(
        t.run(&["explain", "css/b.css"]).success().stdout(),
        format!(
            "css/b.css: renamed {old_b} → {b}\n\
             \x20 because it references img/new.png at css/b.css:1:21\n\
             \x20   img/new.png: added as {png} (3 bytes)\n\
             root cause: img/new.png: added (3 bytes)\n{footer}"
        )
    );
    let c = json(
        &t.run(&["explain", "--changed", "--json"])
            .success()
            .stdout(),
    );
    assert_eq!(c["added"], serde_json::json!(["img/new.png"]));
    assert_eq!(c["removed"], serde_json::json!(["img/old.png"]));
    assert_eq!(c["renamed"], serde_json::json!(["css/a.css", "css/b.css"]));
}
