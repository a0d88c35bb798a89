//! Properties of reference rewriting (issue 9), checked with proptest on generated HTML, CSS
//! and JS: a rewrite changes no byte outside the references it rewrites, and rewriting the
//! output again with the same mapping (whose new names are not themselves mapped) changes
//! nothing. Documents are built from pieces whose rewritten form is known exactly, so the
//! expected output is the same pieces with each reference replaced.

use std::collections::HashMap;

use assetc_pipeline::references::{rewrite, Edit, Format};
use proptest::prelude::*;

use crate::checks;

/// One piece of a generated document: literal text, or a reference written through a
/// template whose `{}` is the reference's value.
#[derive(Debug, Clone)]
enum Piece {
    Text(&'static str),
    Ref(&'static str, String),
}

/// The document with every reference's value mapped through `f`.
fn render(pieces: &[Piece], f: impl Fn(&str) -> String) -> String {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(t) => (*t).to_owned(),
            Piece::Ref(template, value) => template.replace("{}", &f(value)),
        })
        .collect()
}

/// A local reference as assets write them: a relative or root-relative path (as JS needs for
/// a module specifier), with a query or fragment now and then (no character that any of the
/// formats would need to escape).
fn value() -> impl Strategy<Value = String> {
    "(\\./|\\.\\./|/)[a-z][a-z0-9_-]{0,6}(/[a-z0-9_-]{1,6}){0,2}\\.(png|css|js|woff2)(\\?v=[0-9]{1,3}|#[a-z]{1,4})?"
}

fn document(
    texts: &'static [&'static str],
    templates: &'static [&'static str],
) -> impl Strategy<Value = Vec<Piece>> {
    let piece = prop_oneof![
        proptest::sample::select(texts).prop_map(Piece::Text),
        (proptest::sample::select(templates), value()).prop_map(|(t, v)| Piece::Ref(t, v)),
    ];
    proptest::collection::vec(piece, 0..24)
}

/// Rewrites every reference to a new name (`/m<i>.Zq`, never itself a value) and checks the
/// output against the expected document, then that rewriting the output again with the same
/// mapping changes nothing.
fn check_rewrite_exact(format: Format, pieces: &[Piece]) -> Result<(), TestCaseError> {
    let source = render(pieces, str::to_owned);
    let mut mapping: HashMap<String, String> = HashMap::new();
    for piece in pieces {
        if let Piece::Ref(_, v) = piece {
            let next = checks::marker(mapping.len());
            mapping.entry(v.clone()).or_insert(next);
        }
    }
    let visit = |r: &assetc_pipeline::references::FoundRef| Edit {
        url: mapping.get(&r.value).cloned(),
        ..Edit::default()
    };
    let once = rewrite(format, source.as_bytes(), "utf-8", visit)
        .map_err(|e| TestCaseError::fail(format!("{source:?}: {e}")))?;
    let once = String::from_utf8(once).expect("UTF-8 in, UTF-8 out");
    let expected = render(pieces, |v| mapping[v].clone());
    prop_assert_eq!(&once, &expected, "source: {:?}", source);
    let twice = rewrite(format, once.as_bytes(), "utf-8", visit)
        .map_err(|e| TestCaseError::fail(format!("{once:?}: {e}")))?;
    prop_assert_eq!(String::from_utf8(twice).expect("UTF-8"), once);
    Ok(())
}

const CSS_TEXTS: &[&str] = &[
    ".a { color: red }\n",
    "/* url(not.png) @import \"no.css\"; */",
    ".b::before { content: \"url(nope.png)\"; font-family: 'url(x)', serif }\n",
    "@media (min-width: 40em) { .c { margin: 0 auto } }\n",
    ".d { background: url(data:image/png;base64,AA==) }",
    ".e { background: url(https://cdn.example.com/e.png) }",
    "  \n\t",
    ".ü { color: #fff } /* é */",
    "@font-face { font-family: \"X\"; src: local(\"X\") }\n",
];

const CSS_REFS: &[&str] = &[
    ".r { background: url({}) }\n",
    ".r { background: url(\"{}\") }\n",
    ".r { background:url( '{}' ) }",
    "@import \"{}\";\n",
    "@import url({}) screen;\n",
    ".r { background-image: image-set(\"{}\" 1x, url({}) 2x) }\n",
    "@font-face { src: url({}) format(\"woff2\") }",
    "@media print { .r { background: url({}) } }",
];

const JS_TEXTS: &[&str] = &[
    "const a = b / 2 / c;\n",
    "// import x from \"./no.js\"\n",
    "/* import(\"./no.js\") */\n",
    "let s = \"import('./not.js')\";\n",
    "let t = `./tpl.js ${x}`;\n",
    "let r = /import \"\\.\\/no.js\"/g;\n",
    "import React from \"react\";\n",
    "function f() { return 1; }\n",
    "let ü = '日本';\n",
];

const JS_REFS: &[&str] = &[
    "import a from \"{}\";\n",
    "import { b } from '{}';\n",
    "import \"{}\";\n",
    "export * from \"{}\";\n",
    "const m = import(\"{}\");\n",
    "const u = new URL(\"{}\", import.meta.url);\n",
    "const w = new URL(`{}`, import.meta.url);\n",
];

/// Tags in the form lol_html writes a rewritten start tag (double quotes, one space between
/// attributes), so that re-serialising a tag changes nothing but its reference.
const HTML_TEXTS: &[&str] = &[
    "<!DOCTYPE html>\n",
    "<p class=\"x\">text &amp; more</p>\n",
    "<!-- <img src=\"not.png\"> -->",
    "<P CLASS=x>upper</P>",
    "<textarea><img src=\"t.png\"></textarea>",
    "<a href=\"https://example.com/\">out</a>",
    "<img src=\"data:image/png;base64,AA==\">",
    "<script>import(\"./classic-not-scanned.js\")</script>",
    "  \n",
    "<p>ü 日本</p>",
];

const HTML_REFS: &[&str] = &[
    "<img src=\"{}\" alt=\"a\">",
    "<link rel=\"stylesheet\" href=\"{}\">",
    "<script src=\"{}\" defer></script>",
    "<a href=\"{}\">x</a>",
    "<img srcset=\"{} 1x, {} 2x\">",
    "<video poster=\"{}\"></video>",
    "<style>.a { background: url({}) }</style>",
    "<div style=\"background: url('{}')\"></div>",
    "<script type=\"module\">import a from \"{}\";</script>",
    "<meta property=\"og:image\" content=\"{}\">",
];

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn css_rewrite_changes_only_references_and_is_idempotent(
        pieces in document(CSS_TEXTS, CSS_REFS)
    ) {
        check_rewrite_exact(Format::Css, &pieces)?;
    }

    #[test]
    fn js_rewrite_changes_only_references_and_is_idempotent(
        pieces in document(JS_TEXTS, JS_REFS)
    ) {
        check_rewrite_exact(Format::Js, &pieces)?;
    }

    #[test]
    fn html_rewrite_changes_only_references_and_is_idempotent(
        pieces in document(HTML_TEXTS, HTML_REFS)
    ) {
        check_rewrite_exact(Format::Html, &pieces)?;
    }

    /// The fuzz targets' properties on short CSS-like strings: spans sorted, disjoint and on
    /// character boundaries, values splice back to themselves, rewriting reads back.
    #[test]
    fn css_scanner_properties_on_css_like_text(source in "[a-z@(){};:'\" /*.\n-]{0,60}|(url\\(|@import |image-set\\(|[\"' ();{}a.])*") {
        checks::check_css(source.as_bytes());
        checks::check_rewrite_format(Format::Css, source.as_bytes());
    }

    #[test]
    fn js_scanner_properties_on_js_like_text(source in "(import|export|from|new URL\\(|import\\.meta\\.url|[\"'`/*(){};,.\n ]|\\./a|\\$\\{|x|=)*") {
        checks::check_js(source.as_bytes());
        checks::check_rewrite_format(Format::Js, source.as_bytes());
    }

    #[test]
    fn html_rewriter_properties_on_html_like_text(source in "(<|>|/|=|\"|'| |img|src|style|script|type=module|link|href|srcset|url\\(|a\\.png|,|1x|&amp;|<!--|-->|import \"\\./m\\.js\")*") {
        checks::check_rewrite_format(Format::Html, source.as_bytes());
    }
}
