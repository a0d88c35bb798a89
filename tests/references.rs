//! `assetc build` across formats: CSS, JS, source maps, web manifests, import maps; hashes
//! that cover dependencies; cycles; already-hashed files; SRI.

use std::fs;

use crate::common::{served_tree, Tree};

fn name(t: &Tree, logical: &str) -> String {
    t.served(logical).rsplit('/').next().unwrap().to_owned()
}

#[test]
fn css_references_are_rewritten_and_everything_else_is_kept() {
    let t = Tree::new();
    for f in [
        "img/a.png",
        "img/b.png",
        "img/c@2x.png",
        "fonts/f.woff2",
        "fonts/f.eot",
        "fonts/f.svg",
        "css/base.css",
        "css/more.css",
    ] {
        t.file(f, f);
    }
    let css = r#"@charset "utf-8";
@import "base.css";
@import url(more.css) screen;
/* url(../img/a.png) in a comment stays */
.a { background: url(../img/a.png) }
.b { background-image: url( "../img/b.png" ) , url('data:image/png;base64,AAAA') }
.c { background-image: image-set("../img/a.png" 1x, url(../img/c@2x.png) 2x) }
.d { content: "url(../img/a.png)"; font-family: "x.png" }
@font-face {
  font-family: F;
  src: url(../fonts/f.eot?#iefix) format("embedded-opentype"), local("F Regular"),
       url("../fonts/f.woff2") format("woff2"), url(../fonts/f.svg%23F) format("svg");
}
.e { background: url(https://cdn.example.com/x.png), url(//cdn.example.com/y.png) }
"#;
    t.file("css/site.css", css);
    t.build(&["--strict"]).success();
    let out = t.read(&t.served("css/site.css"));
    let expected = css
        .replace("\"base.css\"", &format!("\"{}\"", name(&t, "css/base.css")))
        .replace(
            "url(more.css)",
            &format!("url({})", name(&t, "css/more.css")),
        )
        .replace(
            ".a { background: url(../img/a.png) }",
            &format!(".a {{ background: url(../img/{}) }}", name(&t, "img/a.png")),
        )
        .replace(
            "\"../img/b.png\"",
            &format!("\"../img/{}\"", name(&t, "img/b.png")),
        )
        .replace(
            "image-set(\"../img/a.png\" 1x, url(../img/c@2x.png)",
            &format!(
                "image-set(\"../img/{}\" 1x, url(../img/{})",
                name(&t, "img/a.png"),
                name(&t, "img/c@2x.png")
            ),
        )
        .replace(
            "f.eot?#iefix",
            &format!("{}?#iefix", name(&t, "fonts/f.eot")),
        )
        .replace(
            "\"../fonts/f.woff2\"",
            &format!("\"../fonts/{}\"", name(&t, "fonts/f.woff2")),
        )
        .replace("f.svg%23F", &format!("{}%23F", name(&t, "fonts/f.svg")));
    assert_eq!(out, expected);
}

#[test]
fn style_elements_and_attributes_are_css_too() {
    let t = Tree::new();
    t.file("img/a.png", "a").file(
        "index.html",
        "<style>\n.x { background: url(img/a.png) }\n</style><div style=\"background: url('img/a.png')\"></div>",
    );
    t.build(&["--strict"]).success();
    let html = t.read("index.html");
    let a = name(&t, "img/a.png");
    assert_eq!(html, format!("<style>\n.x {{ background: url(img/{a}) }}\n</style><div style=\"background: url('img/{a}')\"></div>"));
}

#[test]
fn js_module_references_are_rewritten_and_lookalikes_are_not() {
    let t = Tree::new();
    t.file("js/dep.js", "export const x = 1;")
        .file("js/lazy.js", "export default 2;")
        .file("img/logo.png", "p")
        .file("js/side.js", "1");
    let js = r#"import { x } from "./dep.js";
import './side.js';
export { x } from "./dep.js";
import React from "react";
const lazy = () => import("./lazy.js");
const logo = new URL("../img/logo.png", import.meta.url);
// import "./dep.js" in a comment
const s = "import './dep.js'";
const re = /import "\.\/dep.js"/;
const t = `./dep.js ${"./lazy.js"}`;
"#;
    t.file("js/app.js", js);
    t.build(&["--strict"]).success();
    let out = t.read(&t.served("js/app.js"));
    let (dep, lazy, side, logo) = (
        name(&t, "js/dep.js"),
        name(&t, "js/lazy.js"),
        name(&t, "js/side.js"),
        name(&t, "img/logo.png"),
    );
    let expected = js
        .replacen(
            "from \"./dep.js\";\nimport './side.js'",
            &format!("from \"./{dep}\";\nimport './{side}'"),
            1,
        )
        .replacen(
            "export { x } from \"./dep.js\"",
            &format!("export {{ x }} from \"./{dep}\""),
            1,
        )
        .replacen("import(\"./lazy.js\")", &format!("import(\"./{lazy}\")"), 1)
        .replacen("\"../img/logo.png\"", &format!("\"../img/{logo}\""), 1);
    assert_eq!(out, expected);
}

#[test]
fn source_maps_are_renamed_before_the_files_naming_them_and_their_file_stays_a_name() {
    // ECMA-426: `file` is "an optional name of the generated code", which no decoder
    // resolves: furo's `scripts/furo.js` and Material's `main.css` are names, not paths
    // relative to the map. So it is never warned about or rewritten, and a script and its
    // map are not a cycle: the map is named first, then the script that names it.
    let t = Tree::new();
    let map = r#"{"version":3,"file":"app.js","sources":["../src/app.ts"],"mappings":"AAAA"}"#;
    t.file(
        "js/app.js",
        "console.log(1);\n//# sourceMappingURL=app.js.map\n",
    )
    .file("js/app.js.map", map)
    .file(
        "css/site.css",
        "a{}\n/*# sourceMappingURL=site.css.map */\n",
    )
    .file(
        "css/site.css.map",
        r#"{"version":3,"file":"scripts/furo.js","sources":[],"mappings":""}"#,
    );
    let run = t.build(&["--strict"]);
    run.success();
    assert!(run.stderr().contains(" 0 warnings"), "{}", run.stderr());
    let js = t.read(&t.served("js/app.js"));
    assert!(
        js.ends_with(&format!(
            "//# sourceMappingURL={}\n",
            name(&t, "js/app.js.map")
        )),
        "{js}"
    );
    assert_ne!(t.served("js/app.js.map"), "js/app.js.map", "fingerprinted");
    assert_eq!(
        t.read(&t.served("js/app.js.map")),
        map,
        "the map's bytes are its own: `file` and `sources` as written"
    );
    // The map's fingerprint is its own content's, as for any leaf.
    let m = t.manifest();
    assert_eq!(
        m["entries"]["js/app.js"]["references"],
        serde_json::json!(["js/app.js.map"])
    );
    assert_eq!(
        m["entries"]["js/app.js.map"]["references"],
        serde_json::json!([])
    );
    let css = t.read(&t.served("css/site.css"));
    assert!(
        css.contains(&format!(
            "sourceMappingURL={} */",
            name(&t, "css/site.css.map")
        )),
        "{css}"
    );
}

#[test]
fn web_manifests_and_import_maps_are_rewritten() {
    let t = Tree::new();
    t.file("icons/192.png", "i").file("icons/512.png", "j").file("js/app.js", "1").file(
        "site.webmanifest",
        r#"{"name":"x","start_url":"/","icons":[{"src":"icons/192.png","sizes":"192x192"},{"src":"/icons/512.png"}]}"#,
    );
    t.file(
        "index.html",
        r#"<link rel="manifest" href="site.webmanifest"><script type="importmap">{"imports":{"app":"./js/app.js","react":"https://esm.sh/react"}}</script><script type="module">import "./js/app.js";</script>"#,
    );
    t.build(&["--strict"]).success();
    let manifest = t.read(&t.served("site.webmanifest"));
    assert!(
        manifest.contains(&format!("\"src\":\"icons/{}\"", name(&t, "icons/192.png"))),
        "{manifest}"
    );
    assert!(
        manifest.contains(&format!("\"src\":\"/icons/{}\"", name(&t, "icons/512.png"))),
        "{manifest}"
    );
    assert!(manifest.contains("\"start_url\":\"/\""));
    let html = t.read("index.html");
    let app = name(&t, "js/app.js");
    assert!(
        html.contains(&format!("href=\"{}\"", t.served("site.webmanifest"))),
        "{html}"
    );
    assert!(html.contains(&format!("\"app\":\"./js/{app}\"")), "{html}");
    assert!(
        html.contains("\"react\":\"https://esm.sh/react\""),
        "{html}"
    );
    assert!(html.contains(&format!("import \"./js/{app}\";")), "{html}");
}

#[test]
fn changing_a_font_renames_the_css_and_changes_the_pages_and_nothing_else() {
    let t = Tree::new();
    t.file("fonts/f.woff2", "font v1")
        .file("img/logo.png", "logo")
        .file("css/site.css", "@font-face { font-family: F; src: url(../fonts/f.woff2) }")
        .file("css/other.css", "body { color: red }")
        .file("js/app.js", "1")
        .file("index.html", "<link rel=stylesheet href=css/site.css><img src=img/logo.png><script src=js/app.js></script>")
        .file("plain.html", "<link rel=stylesheet href=css/other.css>");
    t.build(&["--keep", "1", "--keep-age", "0"]).success();
    let before = t.manifest();
    t.file("fonts/f.woff2", "font v2");
    t.build(&["--keep", "1", "--keep-age", "0"]).success();
    let after = t.manifest();
    let e = |m: &serde_json::Value, k: &str, f: &str| m["entries"][k][f].clone();
    for changed in ["fonts/f.woff2", "css/site.css"] {
        assert_ne!(
            e(&before, changed, "path"),
            e(&after, changed, "path"),
            "{changed} keeps its name"
        );
    }
    assert_eq!(
        e(&before, "index.html", "path"),
        e(&after, "index.html", "path"),
        "pages keep their path"
    );
    assert_ne!(
        e(&before, "index.html", "etag"),
        e(&after, "index.html", "etag"),
        "but get new bytes"
    );
    for same in ["img/logo.png", "css/other.css", "js/app.js", "plain.html"] {
        assert_eq!(
            before["entries"][same], after["entries"][same],
            "{same} changed"
        );
    }
}

#[test]
fn modules_that_import_each_other_are_named_together_and_deterministically() {
    let t = Tree::new();
    t.file("a.js", "import { b } from './b.js'; export const a = 1;")
        .file("b.js", "import { a } from './a.js'; export const b = 2;")
        .file("index.html", "<script type=module src=a.js></script>");
    t.build_into("one", &[]).success();
    t.build_into("two", &["--jobs", "1"]).success();
    assert_eq!(
        served_tree(&t.root().join("one")),
        served_tree(&t.root().join("two"))
    );
    let m1: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(t.root().join("one/assetc-manifest.json")).unwrap(),
    )
    .unwrap();
    let a1 = m1["entries"]["a.js"]["path"].as_str().unwrap().to_owned();
    let b1 = m1["entries"]["b.js"]["path"].as_str().unwrap().to_owned();
    let a_text = fs::read_to_string(t.root().join("one").join(&a1)).unwrap();
    assert!(a_text.contains(&format!("'./{b1}'")), "{a_text}");
    let b_text = fs::read_to_string(t.root().join("one").join(&b1)).unwrap();
    assert!(b_text.contains(&format!("'./{a1}'")), "{b_text}");

    t.file("b.js", "import { a } from './a.js'; export const b = 3;");
    t.build_into("one", &[]).success();
    let m2: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(t.root().join("one/assetc-manifest.json")).unwrap(),
    )
    .unwrap();
    assert_ne!(
        m2["entries"]["a.js"]["path"],
        a1.as_str(),
        "a change to one member renames every member"
    );
    assert_ne!(m2["entries"]["b.js"]["path"], b1.as_str());
    // Each member's own checksum covers its own final bytes.
    let a2 = m2["entries"]["a.js"]["path"].as_str().unwrap();
    let bytes = fs::read(t.root().join("one").join(a2)).unwrap();
    assert_eq!(m2["entries"]["a.js"]["size"], bytes.len());
}

#[test]
fn already_hashed_files_keep_their_names_unless_their_bytes_change() {
    let t = Tree::new();
    t.file("assets/index-4QTUNIID.js", "import './vendor-Ab12Cd34.js';")
        .file("assets/vendor-Ab12Cd34.js", "v")
        .file("assets/lazy-Zz99Yy88.js", "import './plain.js';")
        .file("assets/plain.js", "p");
    let run = t.build(&["--already-hashed", "assets/*-????????.js"]);
    run.success();
    assert_eq!(
        t.served("assets/index-4QTUNIID.js"),
        "assets/index-4QTUNIID.js"
    );
    assert_eq!(
        t.served("assets/vendor-Ab12Cd34.js"),
        "assets/vendor-Ab12Cd34.js"
    );
    assert_eq!(
        t.manifest()["entries"]["assets/vendor-Ab12Cd34.js"]["immutable"],
        true
    );
    // One that references a file assetc renames cannot keep a name that no longer covers its bytes.
    assert_ne!(
        t.served("assets/lazy-Zz99Yy88.js"),
        "assets/lazy-Zz99Yy88.js"
    );
    assert!(
        run.stderr().contains("marked as already hashed"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_cycle_of_already_hashed_chunks_keeps_their_names() {
    // Issue 17's minimal case: Rollup and Vite output nearly always has this cycle (the lazy
    // chunk imports the entry chunk, which `import()`s it back).
    let t = Tree::new();
    t.file(
        "index.html",
        r#"<script type="module" src="/assets/a-AAAAAAAA.js"></script>"#,
    )
    .file(
        "assets/a-AAAAAAAA.js",
        r#"import("./b-BBBBBBBB.js"); export const x = 1;"#,
    )
    .file(
        "assets/b-BBBBBBBB.js",
        r#"import { x } from "./a-AAAAAAAA.js";"#,
    );
    let run = t.build(&["--already-hashed", "assets/**", "--strict"]);
    run.success();
    assert!(run.stderr().contains(" 0 warnings"), "{}", run.stderr());
    assert_eq!(t.served("assets/a-AAAAAAAA.js"), "assets/a-AAAAAAAA.js");
    assert_eq!(t.served("assets/b-BBBBBBBB.js"), "assets/b-BBBBBBBB.js");
    assert_eq!(
        t.read("assets/b-BBBBBBBB.js"),
        r#"import { x } from "./a-AAAAAAAA.js";"#
    );
}

#[test]
fn already_hashed_chunks_with_source_maps_keep_every_name() {
    // Each chunk names its map, each map's `file` names its chunk, and the chunks import each
    // other: with the map's `file` read as a reference this was one cycle of four files, all
    // renamed. Now the maps are leaves and the chunks a cycle that keeps its names.
    let t = Tree::new();
    t.file(
        "index.html",
        r#"<script type="module" src="/assets/index-CDkKvKIr.js"></script>"#,
    )
    .file(
        "assets/index-CDkKvKIr.js",
        "import(\"./lazy-Bx1_9zQa.js\");export const x=1;\n//# sourceMappingURL=index-CDkKvKIr.js.map\n",
    )
    .file(
        "assets/index-CDkKvKIr.js.map",
        r#"{"version":3,"file":"index-CDkKvKIr.js","sources":["../../src/main.jsx"],"mappings":"AAAA"}"#,
    )
    .file(
        "assets/lazy-Bx1_9zQa.js",
        "import{x}from\"./index-CDkKvKIr.js\";\n//# sourceMappingURL=lazy-Bx1_9zQa.js.map\n",
    )
    .file(
        "assets/lazy-Bx1_9zQa.js.map",
        r#"{"version":3,"file":"lazy-Bx1_9zQa.js","sources":["../../src/Lazy.jsx"],"mappings":"AAAA"}"#,
    );
    let run = t.build(&["--already-hashed", "assets/**", "--strict"]);
    run.success();
    assert!(run.stderr().contains(" 0 warnings"), "{}", run.stderr());
    for logical in [
        "assets/index-CDkKvKIr.js",
        "assets/index-CDkKvKIr.js.map",
        "assets/lazy-Bx1_9zQa.js",
        "assets/lazy-Bx1_9zQa.js.map",
    ] {
        assert_eq!(t.served(logical), logical);
        assert_eq!(t.manifest()["entries"][logical]["immutable"], true);
        assert_eq!(
            fs::read(t.output().join(logical)).unwrap(),
            fs::read(t.input().join(logical)).unwrap(),
            "{logical} keeps its bytes"
        );
    }
}

#[test]
fn an_already_hashed_cycle_member_that_must_change_is_renamed_with_the_warning() {
    let t = Tree::new();
    t.file(
        "assets/a-AAAAAAAA.js",
        r#"import("./b-BBBBBBBB.js"); export const x = 1;"#,
    )
    .file(
        "assets/b-BBBBBBBB.js",
        r#"import { x } from "./a-AAAAAAAA.js"; import "/logo.js";"#,
    )
    .file("logo.js", "export {};");
    let run = t.build(&["--already-hashed", "assets/**"]);
    run.success();
    let (a, b) = (
        t.served("assets/a-AAAAAAAA.js"),
        t.served("assets/b-BBBBBBBB.js"),
    );
    assert_ne!(a, "assets/a-AAAAAAAA.js");
    assert_ne!(b, "assets/b-BBBBBBBB.js");
    let stderr = run.stderr();
    assert_eq!(
        stderr.matches("marked as already hashed").count(),
        2,
        "b changes bytes (it names logo.js), and a names b: {stderr}"
    );
    assert!(t.read(&a).contains(&format!(
        "import(\"./{}\")",
        name(&t, "assets/b-BBBBBBBB.js")
    )));
    assert!(t
        .read(&b)
        .contains(&format!("from \"./{}\"", name(&t, "assets/a-AAAAAAAA.js"))));
    // The strict build fails on those warnings, as in the acyclic case.
    t.build(&["--already-hashed", "assets/**", "--strict"])
        .failure(1);
}

#[test]
fn sri_adds_integrity_to_scripts_and_stylesheets() {
    let t = Tree::new();
    t.file("a.js", "alert('Hello, world.');").file("a.css", "a{}").file("i.png", "i").file(
        "index.html",
        r#"<script src="a.js"></script><link rel="stylesheet" href="a.css"><link rel="icon" href="i.png"><script src="https://cdn.example.com/x.js"></script>"#,
    );
    t.build(&["--sri"]).success();
    let html = t.read("index.html");
    assert!(
        html.contains(
            "integrity=\"sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO\""
        ),
        "{html}"
    );
    let css_integrity = t.manifest()["entries"]["a.css"]["integrity"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        html.contains(&format!("integrity=\"{css_integrity}\"")),
        "{html}"
    );
    assert_eq!(
        html.matches("integrity=").count(),
        2,
        "only local scripts and stylesheets: {html}"
    );
    assert!(
        !html.contains("crossorigin"),
        "same origin needs no crossorigin: {html}"
    );

    let t2 = Tree::new();
    t2.file("a.js", "1")
        .file("index.html", r#"<script src="a.js"></script>"#);
    t2.build(&["--sri", "--base-url", "https://cdn.example.com/"])
        .success();
    assert!(t2.read("index.html").contains("crossorigin=\"anonymous\""));
    // Without --sri nothing is added, but the manifest still records every integrity.
    t2.build(&[]).success();
    assert!(!t2.read("index.html").contains("integrity"));
    assert!(t2.manifest()["entries"]["a.js"]["integrity"]
        .as_str()
        .unwrap()
        .starts_with("sha384-"));

    // Any other file's is the SHA-256 the manifest records, as SRI (never hashed again).
    use base64::Engine as _;
    use sha2::Digest as _;
    let png = &t.manifest()["entries"]["i.png"];
    let expected = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(b"i"));
    assert_eq!(png["integrity"], format!("sha256-{expected}"));
    assert_eq!(
        png["sha256"],
        format!("{:x}", sha2::Sha256::digest(b"i")),
        "the same digest"
    );
}

#[test]
fn sri_gives_import_maps_an_integrity_object() {
    let t = Tree::new();
    t.file("js/app.js", "export default 1;").file(
        "index.html",
        r#"<script type="importmap">{"imports": {"app": "./js/app.js"}}</script>"#,
    );
    t.build(&["--sri"]).success();
    let html = t.read("index.html");
    let app = name(&t, "js/app.js");
    let integrity = t.manifest()["entries"]["js/app.js"]["integrity"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        html,
        format!(
            r#"<script type="importmap">{{"imports": {{"app": "./js/{app}"}},"integrity":{{"./js/{app}":"{integrity}"}}}}</script>"#
        )
    );
}

#[test]
fn ignored_reference_patterns_are_not_warned_about() {
    let t = Tree::new();
    t.file(
        "index.html",
        r#"<a href="/api/users">api</a><img src="/uploads/x.png"><img src="/missing.png">"#,
    );
    fs::write(
        t.root().join("assetc.toml"),
        "[build]\nignore_references = [\"/api/**\"]\n",
    )
    .unwrap();
    let run = t.build(&["--ignore-reference", "/uploads/**"]);
    run.success();
    let err = run.stderr();
    assert!(
        !err.contains("api/users") && !err.contains("uploads"),
        "{err}"
    );
    assert!(err.contains("`/missing.png`"), "{err}");
    assert!(err.contains("1 warning"), "{err}");
}

// With `--sri`, `integrity` goes on references to fingerprinted files only, the same on
// every page: an entry point's bytes change under one URL, so a hash of them in a cached
// copy of a page would block its next version. (It used to depend on whether the page
// happened to be named after the script.)
#[test]
fn sri_covers_fingerprinted_targets_on_every_page_and_never_entry_points() {
    let t = Tree::new();
    let tags = "<script src=\"/embed/w.js\"></script><script src=\"/js/app.js\"></script>";
    t.file("plain.html", format!("<!doctype html>{tags}\n"))
        .file(
            "styled.html",
            format!("<!doctype html><link rel=stylesheet href=\"/css/s.css\">{tags}\n"),
        )
        .file("css/s.css", "body { color: red }\n")
        .file("embed/w.js", "console.log('widget');\n")
        .file("js/app.js", "console.log('app');\n");
    t.build(&["--sri", "--entry-point", "/embed/*.js"])
        .success();
    let manifest = t.manifest();
    let integrity = |logical: &str| {
        manifest["entries"][logical]["integrity"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let app = format!(
        "<script src=\"/{}\" integrity=\"{}\"></script>",
        t.served("js/app.js"),
        integrity("js/app.js")
    );
    for page in ["plain.html", "styled.html"] {
        let html = t.read(page);
        assert!(
            html.contains("<script src=\"/embed/w.js\"></script>"),
            "{page}: {html}"
        );
        assert!(html.contains(&app), "{page}: {html}");
        assert_eq!(
            html.matches("integrity=").count(),
            if page == "plain.html" { 1 } else { 2 },
            "{page}: {html}"
        );
    }
}
