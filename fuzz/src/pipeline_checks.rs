//! Properties of the build's reference scanners and rewriters, checked on any input: the fuzz
//! targets run them, and `crates/pipeline/tests/fuzz_corpus.rs` includes this file to replay
//! the committed corpora on the stable toolchain.
//!
//! Each check panics (with the input in the message) when a property fails; on input the
//! format rejects it returns quietly.

use assetc_pipeline::css::scan_css;
use assetc_pipeline::html::rewrite_html;
use assetc_pipeline::js::scan_js;
use assetc_pipeline::json_refs::{scan_json, SOURCE_MAP_PATHS, WEB_MANIFEST_PATHS};
use assetc_pipeline::references::{rewrite, Edit, Format};
use assetc_pipeline::text_ref::{splice, LineIndex, TextRef};

/// A replacement value that needs no escaping in any context and that every scanner reports
/// (JS reports only relative or root-relative specifiers), unlike anything in the seeds.
pub fn marker(i: usize) -> String {
    format!("/m{i}.Zq")
}

fn markers(n: usize) -> Vec<String> {
    (0..n).map(marker).collect()
}

fn values(refs: &[TextRef]) -> Vec<&str> {
    refs.iter().map(|r| r.value.as_str()).collect()
}

/// Spans are in bounds, on character boundaries, sorted and disjoint, and each line/column
/// is the one [`LineIndex`] gives for the span's start.
pub fn check_spans(source: &str, refs: &[TextRef]) {
    let lines = LineIndex::new(source);
    let mut previous_end = 0;
    for r in refs {
        assert!(
            r.span.start <= r.span.end && r.span.end <= source.len(),
            "span {:?} out of bounds ({} bytes) in {source:?}",
            r.span,
            source.len()
        );
        assert!(
            source.is_char_boundary(r.span.start) && source.is_char_boundary(r.span.end),
            "span {:?} splits a character in {source:?}",
            r.span
        );
        assert!(
            r.span.start >= previous_end,
            "span {:?} overlaps or precedes the previous one (ending at {previous_end}) in {source:?}",
            r.span
        );
        previous_end = r.span.end;
        assert_eq!(
            (r.line, r.column),
            lines.line_column(r.span.start),
            "position of {:?} in {source:?}",
            r.span
        );
    }
}

/// Whether rewriting can be expected to read back in JS. The lexer recovers from an
/// unterminated regex literal (invalid JS) by reading on, so it may report a string inside
/// one, such as `"\.\/x.js"` in `/import "\.\/x.js";`. Writing a `/` where the source had
/// none (an escaped `\/`, or `new URL("x.png", …)` rewritten to a path) can then close the
/// regex and change what follows. Valid JS has no such string, so reading back is only
/// checked when every reference already holds a raw, unescaped `/`.
fn js_reads_back(source: &str, refs: &[TextRef]) -> bool {
    refs.iter()
        .all(|r| source[r.span.clone()].replace("\\/", "").contains('/'))
}

/// The properties every text scanner has, given the scanner (which may reject the input).
fn check_text_scanner(
    source: &str,
    scan: impl Fn(&str) -> Option<Vec<TextRef>>,
    reads_back: impl Fn(&str, &[TextRef]) -> bool,
) {
    let Some(refs) = scan(source) else {
        return;
    };
    check_spans(source, &refs);
    let reads_back = reads_back(source, &refs);

    // Splicing each value back, escaped for its context, reads back as the same values.
    if reads_back {
        let same = splice(source, refs.iter().map(|r| (r, r.value.clone())).collect());
        let again = scan(&same).unwrap_or_else(|| {
            panic!("splicing the values back made {source:?} unparsable: {same:?}")
        });
        assert_eq!(
            values(&again),
            values(&refs),
            "splicing the values back into {source:?} gave {same:?}"
        );
    }

    // Rewriting every reference changes no byte outside the spans...
    let marked = splice(
        source,
        refs.iter()
            .enumerate()
            .map(|(i, r)| (r, marker(i)))
            .collect(),
    );
    let mut expected = String::new();
    let mut at = 0;
    for (i, r) in refs.iter().enumerate() {
        expected.push_str(&source[at..r.span.start]);
        expected.push_str(&marker(i));
        at = r.span.end;
    }
    expected.push_str(&source[at..]);
    assert_eq!(
        marked, expected,
        "splice changed bytes outside the references of {source:?}"
    );

    // ...and the rewritten text has exactly the new references, where they were written.
    if !reads_back {
        return;
    }
    let remarked =
        scan(&marked).unwrap_or_else(|| panic!("rewriting made {source:?} unparsable: {marked:?}"));
    assert_eq!(
        values(&remarked),
        markers(refs.len()),
        "rewriting {source:?} to {marked:?} did not read back"
    );
    let mut shift = 0isize;
    for (i, (old, new)) in refs.iter().zip(&remarked).enumerate() {
        let start = old.span.start.checked_add_signed(shift).expect("in bounds");
        assert_eq!(new.span, start..start + marker(i).len(), "{marked:?}");
        shift += marker(i).len() as isize - old.span.len() as isize;
    }
}

pub fn check_css(data: &[u8]) {
    if let Ok(source) = std::str::from_utf8(data) {
        check_text_scanner(source, |s| Some(scan_css(s)), |_, _| true);
    }
}

pub fn check_js(data: &[u8]) {
    if let Ok(source) = std::str::from_utf8(data) {
        check_text_scanner(source, |s| Some(scan_js(s)), js_reads_back);
    }
}

/// JSON paths that reach every string of a document up to a small depth, plus the real ones.
const ANY_JSON_PATHS: &[&str] = &["*", "*.*", "*[]", "*[].*", "*.*.*", "[]", "[].*", "[][]"];

pub fn check_json(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    for paths in [WEB_MANIFEST_PATHS, SOURCE_MAP_PATHS, ANY_JSON_PATHS] {
        check_text_scanner(source, |s| scan_json(s, paths).ok(), |_, _| true);
    }
}

/// The formats `references::rewrite` dispatches on, chosen by the first byte of an input
/// (`0` HTML, `1` CSS, `2` JS, `3` source map, `4` web manifest, `5` opaque).
const FORMATS: [Format; 6] = [
    Format::Html,
    Format::Css,
    Format::Js,
    Format::SourceMap,
    Format::WebManifest,
    Format::Opaque,
];

/// `references::rewrite` in every format: a rewrite that edits nothing returns the input
/// unchanged, rewriting every reference to a new name reads back as exactly those names, and
/// rewriting that output again with the same mapping (whose new names are not themselves
/// mapped) changes nothing.
pub fn check_rewrite(data: &[u8]) {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let format = FORMATS[usize::from(selector) % FORMATS.len()];
    check_rewrite_format(format, text);
}

pub fn check_rewrite_format(format: Format, text: &[u8]) {
    let mut found = Vec::new();
    let Ok(unchanged) = rewrite(format, text, "utf-8", |r| {
        found.push(r.value.clone());
        Edit::default()
    }) else {
        return;
    };
    // HTML decodes and re-encodes embedded text, so invalid UTF-8 there is not kept as-is.
    if format != Format::Html || std::str::from_utf8(text).is_ok() {
        assert_eq!(
            unchanged,
            text,
            "a rewrite without edits changed {:?}",
            String::from_utf8_lossy(text)
        );
    }

    let mut mapping = std::collections::HashMap::new();
    let mut next = 0;
    let mut new_name = |value: &str| -> String {
        mapping
            .entry(value.to_owned())
            .or_insert_with(|| {
                next += 1;
                marker(next - 1)
            })
            .clone()
    };
    let mut seen = Vec::new();
    let once = rewrite(format, text, "utf-8", |r| {
        let url = new_name(&r.value);
        seen.push(url.clone());
        Edit {
            url: Some(url),
            ..Edit::default()
        }
    })
    .expect("a text that rewrites without edits rewrites with them");
    assert_eq!(
        seen.len(),
        found.len(),
        "the edit changed which references are visited"
    );

    if format == Format::Js {
        let source = std::str::from_utf8(text).expect("rewritten JS is UTF-8");
        if !js_reads_back(source, &scan_js(source)) {
            return;
        }
    }
    let mut refound = Vec::new();
    let twice = rewrite(format, &once, "utf-8", |r| {
        refound.push(r.value.clone());
        // The same mapping: the new names are not in it, so nothing is edited.
        Edit::default()
    })
    .unwrap_or_else(|e| {
        panic!(
            "the rewritten text no longer parses ({e}): {:?}",
            String::from_utf8_lossy(&once)
        )
    });
    assert_eq!(
        twice,
        once,
        "rewriting {:?} again changed it",
        String::from_utf8_lossy(&once)
    );
    if format == Format::Html {
        // Attribute values are compared as written, and lol_html may re-quote a rewritten
        // `style` attribute (`"` becomes `&quot;`), so compare with character references decoded.
        let refound: Vec<String> = refound
            .iter()
            .map(|v| assetc_pipeline::html::decode_char_refs(v))
            .collect();
        assert_eq!(
            refound,
            seen,
            "rewriting {:?} to {:?} did not read back",
            String::from_utf8_lossy(text),
            String::from_utf8_lossy(&once)
        );
    } else {
        assert_eq!(
            refound,
            seen,
            "rewriting {:?} to {:?} did not read back",
            String::from_utf8_lossy(text),
            String::from_utf8_lossy(&once)
        );
    }
}

/// The charsets the HTML target tries, chosen by the first byte of an input (`0` UTF-8,
/// `1` windows-1252, `2` Shift_JIS, `3` UTF-16LE, which is refused).
const CHARSETS: [&str; 4] = ["utf-8", "windows-1252", "shift_jis", "utf-16le"];

/// `rewrite_html` with integrity edits: never panics whatever the charset, a document that
/// rewrites to new names also rewrites with integrity attributes, and each element gets at
/// most one `integrity` attribute however many of its references are edited.
pub fn check_html(data: &[u8]) {
    let Some((&selector, html)) = data.split_first() else {
        return;
    };
    let charset = CHARSETS[usize::from(selector) % CHARSETS.len()];
    let mut count = 0usize;
    let Ok(out) = rewrite_html(html, charset, |r| {
        count += 1;
        Edit {
            url: Some(marker(count - 1)),
            integrity: r.takes_integrity.then(|| format!("sha384-{count}")),
            cross_origin: count & 1 == 0,
        }
    }) else {
        assert_eq!(
            charset, "utf-16le",
            "only non-ASCII-compatible charsets are refused"
        );
        return;
    };
    if charset == "utf-8" {
        check_rewrite_format(Format::Html, html);
        let mut refound = 0;
        rewrite_html(&out, charset, |_| {
            refound += 1;
            Edit::default()
        })
        .expect("rewritten HTML rewrites again");
        assert_eq!(refound, count, "{:?}", String::from_utf8_lossy(&out));
    }
}
