//! The JavaScript scanner's tests: what is a reference and what only looks like one.

use super::*;
use crate::scan::text_ref::splice;
use crate::scan::text_ref::testkit::{self, raw};

/// The scan of `source`, its invariants checked (and no reference is empty).
fn scan_checked(source: &str) -> Vec<TextRef> {
    let refs = testkit::check(source, scan_js(source));
    assert!(refs.iter().all(|r| !r.value.is_empty()), "{refs:?}");
    refs
}

fn values(source: &str) -> Vec<String> {
    scan_checked(source).into_iter().map(|r| r.value).collect()
}

/// Each string's value with its `line:column`.
fn values_at(strings: &[TextRef]) -> Vec<(&str, u32, u32)> {
    strings
        .iter()
        .map(|s| (s.value.as_str(), s.line, s.column))
        .collect()
}

fn none() -> Vec<String> {
    Vec::new()
}

#[test]
fn static_imports_in_every_form() {
    let src = r#"import a from "./a.js";
import * as b from './b.js';
import { c, d as e } from "./c.js";
import f, { g } from "../f.js";
import h, * as i from "/h.js";
import {
  j,
  k,
} from "./multi-line.js";
import "./side-effect.css";
import data from "./data.json" with { type: "json" };
import { "string name" as s } from "./s.js";
import from from "./from.js";
import type { T } from "./types.js";
import defer * as lazy from "./deferred.js";
"#;
    let refs = scan_checked(src);
    assert_eq!(
        values(src),
        [
            "./a.js",
            "./b.js",
            "./c.js",
            "../f.js",
            "/h.js",
            "./multi-line.js",
            "./side-effect.css",
            "./data.json",
            "./s.js",
            "./from.js",
            "./types.js",
            "./deferred.js"
        ]
    );
    assert_eq!(refs[0].context, TextContext::JsString('"'));
    assert_eq!(refs[1].context, TextContext::JsString('\''));
    assert_eq!((refs[1].line, refs[1].column), (2, 21));
    assert_eq!(raw(src, &refs[0]), "./a.js");
}

#[test]
fn re_exports_in_every_form() {
    let src = r#"export * from "./all.js";
export * as ns from './ns.js';
export { a, b as c } from "./named.js";
export { default } from "./default.js";
export { "x-y" as xy } from "./string-name.js";
export * as "str" from "./str-ns.js";
export type { T } from "./types.js";
"#;
    assert_eq!(
        values(src),
        [
            "./all.js",
            "./ns.js",
            "./named.js",
            "./default.js",
            "./string-name.js",
            "./str-ns.js",
            "./types.js"
        ]
    );
}

#[test]
fn exports_without_from_are_not_references() {
    let src = r#"export { a };
"./not-a-reference.js";
export const from = "./nor-this.js";
export default "./nor-that.js";
export function f() { return "./nope.js" }
export { b }
from("./not-import.js")
"#;
    assert_eq!(values(src), none());
}

#[test]
fn dynamic_imports() {
    let src = "const a = await import(\"./a.js\");\nimport('./b.js').then(m => m);\n\
                   import(`./c.js`);\nimport(\"./d.json\", { with: { type: \"json\" } });\nimport ( /* why */ './e.js' )";
    let refs = scan_checked(src);
    assert_eq!(
        values(src),
        ["./a.js", "./b.js", "./c.js", "./d.json", "./e.js"]
    );
    assert_eq!(refs[2].context, TextContext::JsString('`'));
    assert_eq!(raw(src, &refs[2]), "./c.js");
}

#[test]
fn dynamic_imports_that_are_not_a_single_literal() {
    let src = "import(x); import(\"./a\" + b); import(`./${name}.js`); import(cond ? \"./a.js\" : \"./b.js\");\n\
                   import(\"./x.js\".replace(\"x\", y));";
    assert_eq!(values(src), none());
}

#[test]
fn bare_and_network_specifiers_are_left_alone() {
    let src = r#"import React from "react";
import "lodash/fp";
export * from "@scope/pkg";
import("some-package");
import x from "https://cdn.example/x.js";
import y from "//cdn.example/y.js";
import z from ".";
import ok from "./ok.js";
"#;
    assert_eq!(values(src), ["./ok.js"]);
}

#[test]
fn new_url_with_import_meta_url() {
    let src = "const a = new URL(\"x.png\", import.meta.url);\nconst b = new URL('./y.svg', import.meta.url).href;\n\
                   const c = new URL(`../z.woff2`, import.meta.url, );\nnew URL(\"https://ex.example/w.png\", import.meta.url)";
    let refs = scan_checked(src);
    assert_eq!(
        values(src),
        ["x.png", "./y.svg", "../z.woff2", "https://ex.example/w.png"]
    );
    assert_eq!(refs[2].context, TextContext::JsString('`'));
    let worker = "new Worker(new URL(\"./worker.js\", import.meta.url), { type: \"module\" });\n\
                      import(new URL('./lazy.js', import.meta.url).href);";
    assert_eq!(values(worker), ["./worker.js", "./lazy.js"]);
}

#[test]
fn new_url_with_another_base_is_not_a_reference() {
    let src = r#"new URL("a.png");
new URL("b.png", location.href);
new URL("c.png", import.meta.url + "/");
new URL("d.png", import.meta.resolve("./"));
new window.URL("e.png", import.meta.url);
new URLSearchParams("f.png", import.meta.url);
new URL("g" + ".png", import.meta.url);
new URL(`${h}.png`, import.meta.url);
"#;
    assert_eq!(values(src), none());
}

#[test]
fn import_meta_and_property_names_do_not_confuse() {
    let src = r#"console.log(import.meta.url); import "./after-meta.js";
obj.import("./method.js"); obj?.import('./optional.js'); x.from; y.export;
const o = { import: "./key.js", from: "./key2.js", export: "./key3.js" };
class C { import(x) { return x } static from(y) {} }
obj.new.URL("./p.png", import.meta.url);
import "./last.js";
"#;
    assert_eq!(values(src), ["./after-meta.js", "./last.js"]);
}

#[test]
fn look_alike_strings_and_comments_are_left_alone() {
    let src = r#"const s = "import './x.js'";
const t = 'export * from "./y.js"';
// import "./line-comment.js";
/* import("./block-comment.js"); new URL("z.png", import.meta.url) */
const u = `import "./template.js"`;
const v = "new URL('w.png', import.meta.url)";
"#;
    assert_eq!(values(src), none());
}

#[test]
fn template_literals_with_nested_substitutions() {
    let src = r#"const a = `x ${ `y ${ "}" } import "./no1.js" ${ {k: 1}.k }` } import('./no2.js') ${ '`' }`;
const b = `${ import("./yes1.js") }`;
import "./yes2.js";
const c = `unterminated ${ x } import "./no3.js"
"#;
    assert_eq!(values(src), ["./yes1.js", "./yes2.js"]);
}

#[test]
fn regex_literals_are_skipped() {
    let src = r#"const re = /import "\.\/x.js"/g;
const cls = /[/"]/; import "./after-class.js";
const esc = /\/"/; import "./after-escape.js";
if (ok) /'/.test(s); import './after-if.js';
function f() { return /"/.test(s) } import "./after-return.js";
x = typeof /"/; import "./after-typeof.js";
y = [/"/, /'/]; import "./after-array.js";
z = a ? /"/ : /'/; import "./after-ternary.js";
"#;
    assert_eq!(
        values(src),
        [
            "./after-class.js",
            "./after-escape.js",
            "./after-if.js",
            "./after-return.js",
            "./after-typeof.js",
            "./after-array.js",
            "./after-ternary.js"
        ]
    );
}

#[test]
fn divisions_are_not_regexes() {
    // Read as a regex, each first `/` would swallow the import up to the second.
    let src = r#"h = total / 2; import("./a.js"); q = total / 4;
(a + b) / 2; import("./b.js"); c / 3;
arr[0] / 2; import("./c.js"); x / 1;
10 / 2; import("./d.js"); 1 / 1;
this / 2; import("./e.js"); this / 1;
i++ / 2; import("./f.js"); i-- / 1;
obj.return / 2; import("./g.js"); y / 1;
1.5e3 / 2; import("./h.js"); .5 / 1;
x /= 2; import("./i.js"); y /= 1;
"#;
    assert_eq!(
        values(src),
        [
            "./a.js", "./b.js", "./c.js", "./d.js", "./e.js", "./f.js", "./g.js", "./h.js",
            "./i.js"
        ]
    );
}

#[test]
fn after_a_block_a_slash_starts_a_regex_and_after_an_object_it_divides() {
    let src = r#"if (a) { b() } /'/.test(s); import './after-if-block.js';
function f() {}
/"/.test(s); import "./after-function.js";
try {} finally {} /'/g; import './after-finally.js';
class A extends B {} /"/; import "./after-class.js";
const g = () => {}
/"/; import "./after-arrow-body.js";
x = { a: 1 } / 2; import("./after-object.js"); y = 1 / 1;
x = [{}] / 2; import("./after-array-object.js"); y = 1 / 1;
x = f({}) / 2; import("./after-call.js"); y = 1 / 1;
function g2() { return { a: 1 } / 2; import("./after-returned-object.js"); y = 1 / 1; }
"#;
    assert_eq!(
        values(src),
        [
            "./after-if-block.js",
            "./after-function.js",
            "./after-finally.js",
            "./after-class.js",
            "./after-arrow-body.js",
            "./after-object.js",
            "./after-array-object.js",
            "./after-call.js",
            "./after-returned-object.js"
        ]
    );
}

#[test]
fn unterminated_regex_recovers_as_division() {
    let src = "x = /abc\nimport \"./ok.js\";";
    assert_eq!(values(src), ["./ok.js"]);
}

#[test]
fn source_mapping_url_comments() {
    let src =
        "console.log(1);\n//# sourceMappingURL=app.js.map\n//@ sourceMappingURL=legacy.map\r\n\
                   /*# sourceMappingURL=block.map */\n//#sourceMappingURL=tight.map  ";
    let refs = scan_checked(src);
    assert_eq!(
        values(src),
        ["app.js.map", "legacy.map", "block.map", "tight.map"]
    );
    assert!(refs.iter().all(|r| r.context == TextContext::Comment));
    assert_eq!((refs[0].line, refs[0].column), (2, 22));
    assert_eq!(raw(src, &refs[1]), "legacy.map");
}

#[test]
fn source_mapping_url_look_alikes_are_not_references() {
    let src = "const s = \"//# sourceMappingURL=str.map\";\nconst t = `\n//# sourceMappingURL=tpl.map\n`;\n\
                   // see //# sourceMappingURL=inner.map\n//# sourceMappingURL=a.map and more\n//# sourceMappingURL=\n\
                   x = /\\/\\/# sourceMappingURL=re.map/;";
    assert_eq!(values(src), none());
}

#[test]
fn hashbang_is_a_comment() {
    assert_eq!(
        values("#!/usr/bin/env node import \"./no.js\"\nimport \"./yes.js\""),
        ["./yes.js"]
    );
}

#[test]
fn escapes_are_resolved_and_spans_cover_the_raw_text() {
    let src = r#"import "./\u0061.js"; import './it\'s.js'; import "./\x62\u{63}.js"; import "./line\
cont.js"; import "./\uD83D\uDE00.js"; new URL(`t\`ick.png`, import.meta.url);"#;
    let refs = scan_checked(src);
    assert_eq!(
        values(src),
        [
            "./a.js",
            "./it's.js",
            "./bc.js",
            "./linecont.js",
            "./\u{1F600}.js",
            "t`ick.png"
        ]
    );
    assert_eq!(raw(src, &refs[0]), r"./\u0061.js");
    assert_eq!(raw(src, &refs[1]), r"./it\'s.js");
    assert_eq!(raw(src, &refs[5]), r"t\`ick.png");
}

#[test]
fn strings_without_a_value_are_skipped() {
    assert_eq!(
        values(r#"import "./\uD83D.js"; import "./\u{110000}.js"; import "./ok.js";"#),
        ["./ok.js"]
    );
    assert_eq!(
        values(r#"new URL(`\1.png`, import.meta.url); new URL("", import.meta.url)"#),
        none()
    );
}

#[test]
fn decode_covers_the_escape_forms() {
    assert_eq!(
        decode(r"\n\t\r\b\f\v\0", false).as_deref(),
        Some("\n\t\r\u{8}\u{c}\u{b}\0")
    );
    assert_eq!(decode(r"\101\7\08", false).as_deref(), Some("A\u{7}\u{0}8"));
    assert_eq!(decode(r"\08", true), None);
    assert_eq!(decode(r"\q\'\`", false).as_deref(), Some("q'`"));
    assert_eq!(decode("a\r\nb", true).as_deref(), Some("a\nb"));
    assert_eq!(decode("\\\u{2028}x", false).as_deref(), Some("x"));
    assert_eq!(decode(r"\x4", false), None);
    assert_eq!(decode("\\", false), None);
}

#[test]
fn line_and_column_count_characters() {
    let src = "// é\nconst ü = 1; import \"./ü.js\";\n\n  new URL('ä.png', import.meta.url)";
    let refs = scan_checked(src);
    assert_eq!((refs[0].line, refs[0].column), (2, 22));
    assert_eq!((refs[1].line, refs[1].column), (4, 12));
}

#[test]
fn splicing_every_reference_with_its_own_value_reproduces_the_source() {
    let src = "import a from './a.js';\nexport * from \"../b.js\";\nimport('/c.js');\n\
                   const u = new URL(`d.png`, import.meta.url);\n//# sourceMappingURL=e.js.map\n";
    let refs = scan_checked(src);
    assert_eq!(refs.len(), 5);
    testkit::assert_splices_back(src, &refs);
}

#[test]
fn rewriting_changes_only_the_values() {
    let src =
        "import a from './a.js'; // import './a.js'\nconst s = \"./a.js\";\nimport('./b.js');\n\
                   //# sourceMappingURL=main.js.map";
    let refs = scan_checked(src);
    let replacements = refs
        .iter()
        .map(|r| {
            let (stem, ext) = r.value.rsplit_once('.').unwrap();
            (r, format!("{stem}.5f3e.{ext}"))
        })
        .collect();
    assert_eq!(
            splice(src, replacements),
            "import a from './a.5f3e.js'; // import './a.js'\nconst s = \"./a.js\";\nimport('./b.5f3e.js');\n\
             //# sourceMappingURL=main.js.5f3e.map"
        );
}

#[test]
fn rewritten_values_needing_escapes_read_back_as_themselves() {
    let src = "import './a.js'; import(\"./b.js\"); new URL(`c.png`, import.meta.url)";
    let refs = scan_checked(src);
    testkit::assert_reads_back(
        src,
        &refs,
        &["./it's.js", "./q\"\\.js", "./${x}`.png"],
        values,
    );
}

#[test]
fn unterminated_input_never_reports_or_panics() {
    for (src, expected) in [
        ("import \"./x.js", none()),
        ("import './x.js\nimport", none()),
        ("import(`./x.js", none()),
        ("`${ import(\"./x.js\") ", vec!["./x.js".to_owned()]),
        ("/* import \"./x.js\"", none()),
        ("x = /[/", none()),
        ("import", none()),
        ("new URL(\"x.png\", import.meta.", none()),
        ("new URL(\"x.png\", import.meta.url", none()),
        ("\\", none()),
        ("#", none()),
        ("'\\", none()),
        ("`\\", none()),
        ("${}}}}))))]]]", none()),
    ] {
        assert_eq!(values(src), expected, "{src:?}");
    }
}

#[test]
fn deep_nesting_is_fine() {
    // Code inside `${}` is code, however deep.
    let src = format!(
        "{}{}{} import \"./ok.js\"",
        "(".repeat(100_000),
        "{".repeat(100_000),
        "`${".repeat(100_000)
    );
    assert_eq!(values(&src), ["./ok.js"]);
    let src = format!(
        "{}{} import \"./ok.js\"",
        "`${".repeat(1000),
        "}`".repeat(1000)
    );
    assert_eq!(values(&src), ["./ok.js"]);
}

#[test]
fn garbage_never_panics() {
    const PIECES: &[&str] = &[
        "import",
        "export",
        "from",
        "new",
        "URL",
        "import.meta.url",
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        "${",
        "`",
        "'",
        "\"",
        "\\",
        "/",
        "//",
        "/*",
        "*/",
        "*",
        ",",
        ".",
        "./x.js",
        "\n",
        "\r",
        " ",
        "é",
        "\u{2028}",
        "\u{feff}",
        "#",
        "#!",
        "++",
        "if",
        "return",
        "//# sourceMappingURL=a.map",
        "\u{0}",
        "\u{1F600}",
        "0x1",
        "\\u{",
        "\\u00",
        ";",
    ];
    testkit::garbage(PIECES, 0x9e37_79b9_7f4a_7c15, 5000, 40, |src| {
        scan_checked(src);
    });
}

#[test]
fn a_large_input_is_scanned_whole() {
    let chunk = "import a from './a.js'; const r = /\"/g, d = x / 2; const s = `${ 'import \"./no.js\"' }`; // c\n";
    let count = (1 << 20) / chunk.len();
    let src = chunk.repeat(count);
    let refs = scan_js(&src);
    assert_eq!(refs.len(), count);
    assert_eq!(refs.last().map(|r| r.line), Some(count as u32));
}

#[test]
fn string_literals_are_every_string_template_and_template_part() {
    let src = "const a = 'x.png', b = \"y\\u002ejs\";\nfetch(`${base}/search/index.json?v=${v}`); k = `w.svg`;\n// 'not.css'\n/'re.js'/.test(s);";
    let strings = testkit::check(src, string_literals(src));
    let found = values_at(&strings);
    assert_eq!(
        found,
        [
            ("x.png", 1, 12),
            ("y.js", 1, 25),
            ("", 2, 8),
            ("/search/index.json?v=", 2, 15),
            ("", 2, 40),
            ("w.svg", 2, 49),
        ]
    );
    assert_eq!(&src[strings[3].span.clone()], "/search/index.json?v=");
    // Template parts are not tokens the recognizer reads: references are found as before.
    assert_eq!(
        values("import(`./a.js`); x = `${a}./b.js`; import(`./c${d}.js`);"),
        ["./a.js"]
    );
}

#[test]
fn one_pass_finds_the_references_and_apart_from_them_the_strings_that_may_name_files() {
    let src = "import './a.js';\nconst u = 'img/logo.png', v = 'label', w = `${b}/x.json`;\nr = require('./c.js'); new URL('d.svg', import.meta.url);\ne = 'v1.2'; f = 'a\\u002epng'; g = 'a b.png';";
    let (refs, spans) = scan_js_and_strings(src, may_name_a_file);
    assert_eq!(refs, scan_js(src));
    let strings = testkit::check(src, decoded_strings(src, spans));
    let found = values_at(&strings);
    // Not the references (`./a.js`, `d.svg`), nor `require`'s argument, nor `label`, which
    // has no extension, nor what holds a space.
    assert_eq!(
        found,
        [
            ("img/logo.png", 2, 12),
            ("/x.json", 2, 49),
            ("v1.2", 4, 6),
            ("a.png", 4, 18)
        ]
    );
    // The same strings as a pass of their own finds, less the references.
    let alone: Vec<String> = string_literals_where(src, may_name_a_file)
        .into_iter()
        .filter(|s| !refs.iter().any(|r| r.span == s.span))
        .map(|s| s.value)
        .collect();
    assert_eq!(alone, ["img/logo.png", "/x.json", "v1.2", "a.png"]);
}
