//! `assetc serve --preload-links` (and `[serve] preload_links`): each page's responses carry
//! one `Link` header of preload hints computed at load from the manifest's references, with
//! the URLs the page itself writes. (tests/browser/preload.test.mjs shows Chromium using
//! them.)

use crate::common::http::Http;
use crate::common::server::Server;
use crate::common::Tree;

/// A page with a stylesheet that uses a web font and `@import`s another, a module that
/// imports another, a classic script that imports nothing, an image and a link.
fn site(base_url: Option<&str>) -> Tree {
    let tree = Tree::new();
    tree.file(
        "index.html",
        "<!doctype html><html><head><title>home</title>\
         <link rel=stylesheet href=\"/css/site.css\">\
         <script type=module src=\"/js/app.js\"></script>\
         <script src=\"/js/legacy.js\" defer></script></head>\
         <body><img src=\"/img/dot.png\" alt=\"\"><a href=\"/about.html\">about</a></body></html>\n",
    )
    .file("about.html", "<!doctype html><title>about</title><p>nothing to preload\n")
    .file(
        "css/site.css",
        "@import url(base.css);\n\
         @font-face { font-family: Face; src: url(../fonts/face.woff2) format(\"woff2\"), url(../fonts/face.woff) format(\"woff\") }\n\
         body { font-family: Face, sans-serif; background: url(../img/dot.png) }\n",
    )
    .file("css/base.css", "h1 { margin: 0 }\n")
    .file("fonts/face.woff2", b"wOF2 fake font")
    .file("fonts/face.woff", b"wOFF fake font")
    .file("js/app.js", "import { util } from './util.js';\nutil();\n")
    .file("js/util.js", "export function util() {}\n")
    .file("js/legacy.js", "console.log('classic');\n")
    .file("img/dot.png", b"\x89PNG\r\n\x1a\n fake png");
    let mut args = vec![];
    if let Some(base) = base_url {
        args.extend(["--base-url", base]);
    }
    tree.build(&args).success();
    tree
}

/// The hints the page needs, from the manifest: its stylesheets (breadth first), their
/// woff2 font (the woff beside it is the fallback), its module and the module's import.
fn expected_links(tree: &Tree, base: &str) -> String {
    let url = |logical: &str| format!("{base}{}", tree.served(logical));
    format!(
        "<{}>; rel=preload; as=style, <{}>; rel=preload; as=style, \
         <{}>; rel=preload; as=font; crossorigin, \
         <{}>; rel=modulepreload, <{}>; rel=modulepreload",
        url("css/site.css"),
        url("css/base.css"),
        url("fonts/face.woff2"),
        url("js/app.js"),
        url("js/util.js"),
    )
}

#[test]
fn preload_links_name_the_stylesheets_their_font_and_the_module_graph() {
    let tree = site(None);
    let serve = Server::serve(tree.root())
        .args(&["--preload-links", "--no-watch"])
        .start();
    let links = expected_links(&tree, "/");
    let page = serve.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("link"), Some(links.as_str()));
    // The URLs as the page writes them (and, for what the page does not name itself, the
    // names its stylesheet and module write).
    let text = page.text();
    for logical in ["css/site.css", "js/app.js"] {
        let url = format!("/{}", tree.served(logical));
        assert!(
            text.contains(&format!("\"{url}\"")),
            "{url} not in the page: {text}"
        );
    }
    let file_name = |logical: &str| tree.served(logical).rsplit('/').next().unwrap().to_owned();
    let css = tree.read(&tree.served("css/site.css"));
    for logical in ["css/base.css", "fonts/face.woff2"] {
        assert!(css.contains(&file_name(logical)), "{logical} in {css}");
    }
    let app = tree.read(&tree.served("js/app.js"));
    assert!(app.contains(&file_name("js/util.js")), "{app}");
    // Every response of the page, at every URL it is served at: HEAD, its path, a 304
    // (RFC 9111 §4.3.4: a 304 updates the stored headers, so it repeats them).
    assert_eq!(serve.head("/").header("link"), Some(links.as_str()));
    assert_eq!(
        serve.get("/index.html").header("link"),
        Some(links.as_str())
    );
    let etag = page.h("etag").to_owned();
    let not_modified = serve.get_with("/", &[("If-None-Match", &etag)]);
    assert_eq!(not_modified.status, 304);
    assert_eq!(not_modified.header("link"), Some(links.as_str()));
    // Nothing to hint (a classic script is not hinted: its kind is unknown), no header; no
    // header on assets or on 404s.
    let about = serve.get("/about.html");
    assert_eq!((about.status, about.header("link")), (200, None));
    let css = serve.get(&format!("/{}", tree.served("css/site.css")));
    assert_eq!((css.status, css.header("link")), (200, None));
    let missing = serve.get("/missing");
    assert_eq!((missing.status, missing.header("link")), (404, None));
}

#[test]
fn preload_links_are_off_by_default_and_on_from_the_config_file() {
    let tree = site(None);
    let off = Server::serve(tree.root()).args(&["--no-watch"]).start();
    assert_eq!(off.get("/").header("link"), None);
    drop(off);
    std::fs::write(
        tree.root().join("assetc.toml"),
        "[serve]\npreload_links = true\n\n[[serve.headers]]\npath = \"/\"\nheaders = { Link = \"<https://cdn.example>; rel=preconnect\" }\n",
    )
    .unwrap();
    let on = Server::serve(tree.root()).args(&["--no-watch"]).start();
    // A header rule's Link first, the hints after it, in one field (RFC 8288 §3).
    assert_eq!(
        on.get("/").header("link"),
        Some(
            format!(
                "<https://cdn.example>; rel=preconnect, {}",
                expected_links(&tree, "/")
            )
            .as_str()
        )
    );
}

#[test]
fn preload_links_are_written_under_the_base_url() {
    let base = "https://cdn.example.com/assets/";
    let tree = site(Some(base));
    let serve = Server::serve(tree.root())
        .args(&["--preload-links", "--no-watch"])
        .start();
    let page = serve.get("/");
    let links = expected_links(&tree, base);
    assert_eq!(page.header("link"), Some(links.as_str()));
    let text = page.text();
    for logical in ["css/site.css", "js/app.js"] {
        let url = format!("{base}{}", tree.served(logical));
        assert!(text.contains(&format!("\"{url}\"")), "{url} not in {text}");
    }
}
