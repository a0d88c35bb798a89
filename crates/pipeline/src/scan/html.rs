//! HTML references: every attribute that names a URL, `<style>` elements and `style`
//! attributes (CSS), import maps and inline module scripts, found and rewritten with lol_html
//! so that only what holds a changed reference is re-serialised.

use std::cell::{Cell, RefCell};

use lol_html::html_content::{ContentType, Element, TextChunk};
use lol_html::{element, text, AsciiCompatibleEncoding, HtmlRewriter, Settings};

use crate::scan::css::scan_css;
use crate::scan::js::{scan_js, string_literals_where};
use crate::scan::json_refs::scan_json;
use crate::scan::reference::{Edit, FoundRef, RewriteError, Role};
use crate::scan::text_ref::{splice, LineIndex, TextRef};

/// The edit type of HTML rewrites, which is [`Edit`] itself.
#[deprecated(note = "use `assetc_pipeline::references::Edit`")]
pub type HtmlEdit = Edit;

/// How an attribute holds URLs.
#[derive(Clone, Copy)]
enum Shape {
    Single(Role),
    /// `srcset` / `imagesrcset`: comma-separated candidates with descriptors.
    Srcset,
}

/// The import map fields whose values are URLs.
const IMPORT_MAP_PATHS: &[&str] = &["imports.*", "scopes.*.*"];

/// `<meta name|property>` values whose `content` is a URL.
const URL_METAS: &[&str] = &[
    "og:image",
    "og:image:url",
    "og:image:secure_url",
    "og:video",
    "og:video:url",
    "og:audio",
    "twitter:image",
    "twitter:image:src",
    "msapplication-tileimage",
    "msapplication-config",
];

/// The URL-bearing attributes of an element.
fn url_attributes(tag: &str, element: &Element) -> Vec<(&'static str, Shape)> {
    use Role::{Asset, Navigation};
    let mut attrs = Vec::new();
    match tag {
        "a" | "area" => attrs.push(("href", Shape::Single(Navigation))),
        "link" => {
            attrs.push(("href", Shape::Single(Asset)));
            attrs.push(("imagesrcset", Shape::Srcset));
        }
        "iframe" | "frame" => attrs.push(("src", Shape::Single(Navigation))),
        "video" => attrs.push(("poster", Shape::Single(Asset))),
        "object" => attrs.push(("data", Shape::Single(Asset))),
        "img" | "source" => attrs.push(("srcset", Shape::Srcset)),
        "use" | "image" | "feimage" => {
            attrs.push(("href", Shape::Single(Asset)));
            attrs.push(("xlink:href", Shape::Single(Asset)));
        }
        "meta" => {
            let key = element
                .get_attribute("property")
                .or_else(|| element.get_attribute("name"))
                .unwrap_or_default()
                .to_ascii_lowercase();
            if URL_METAS.contains(&key.as_str()) {
                attrs.push(("content", Shape::Single(Asset)));
            }
        }
        _ => {}
    }
    if !matches!(tag, "iframe" | "frame") {
        attrs.push(("src", Shape::Single(Asset)));
    }
    attrs
}

/// Whether the element's URL attribute is one SRI applies to.
fn takes_integrity(tag: &str, attr: &str, element: &Element) -> bool {
    match (tag, attr) {
        ("script", "src") => true,
        ("link", "href") => element.get_attribute("rel").is_some_and(|rel| {
            rel.split_ascii_whitespace().any(|t| {
                t.eq_ignore_ascii_case("stylesheet") || t.eq_ignore_ascii_case("modulepreload")
            })
        }),
        _ => false,
    }
}

/// The language of an element's text, when it holds references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Embedded {
    None,
    Css,
    ModuleScript,
    ImportMap,
}

/// Text collected across the chunks of one element, with where it started.
struct Pending {
    text: String,
    start: Option<usize>,
}

/// Runs `visit` on every URL reference in `html` and applies its edits. Returns the rewritten
/// document. `encoding` is the document's charset label.
pub fn rewrite_html(
    html: &[u8],
    encoding: &str,
    visit: impl FnMut(&FoundRef) -> Edit,
) -> Result<Vec<u8>, RewriteError> {
    let encoding = ascii_compatible(encoding)?;
    // Line numbers are computed over a lossy UTF-8 view; byte offsets are exact either way.
    let source = String::from_utf8_lossy(html);
    let lines = LineIndex::new(&source);
    let visit = RefCell::new(visit);
    let embedded = Cell::new(Embedded::None);
    let pending = RefCell::new(Pending {
        text: String::new(),
        start: None,
    });

    // The references of embedded text (CSS, JS, import map JSON) starting at byte `start`.
    let rewrite_embedded = |kind: Embedded, text: &str, start: usize| -> Option<String> {
        let refs: Vec<TextRef> = match kind {
            Embedded::Css => scan_css(text),
            Embedded::ModuleScript => scan_js(text),
            Embedded::ImportMap => scan_json(text, IMPORT_MAP_PATHS).ok()?,
            Embedded::None => return None,
        };
        let mut replacements = Vec::new();
        let mut integrity = Vec::new();
        for r in &refs {
            let (line, column) = lines.line_column(start + r.span.start);
            let found = FoundRef {
                value: r.value.clone(),
                role: Role::Asset,
                line,
                column,
                // Import maps carry SRI for the modules they map in an `integrity` object.
                takes_integrity: kind == Embedded::ImportMap,
            };
            let edit = (visit.borrow_mut())(&found);
            if let Some(hash) = edit.integrity {
                integrity.push((edit.url.clone().unwrap_or_else(|| r.value.clone()), hash));
            }
            if let Some(url) = edit.url {
                replacements.push((r, url));
            }
        }
        if replacements.is_empty() && integrity.is_empty() {
            return None;
        }
        let rewritten = splice(text, replacements);
        Some(add_import_map_integrity(&rewritten, &integrity).unwrap_or(rewritten))
    };

    let on_text = |chunk: &mut TextChunk| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let kind = embedded.get();
        if kind == Embedded::None {
            return Ok(());
        }
        let mut p = pending.borrow_mut();
        p.start.get_or_insert(chunk.source_location().bytes().start);
        p.text.push_str(chunk.as_str());
        if !chunk.last_in_text_node() {
            chunk.remove();
            return Ok(());
        }
        let text = std::mem::take(&mut p.text);
        let start = p.start.take().unwrap_or(0);
        drop(p);
        let new_text = rewrite_embedded(kind, &text, start).unwrap_or(text);
        chunk.replace(&new_text, ContentType::Html);
        Ok(())
    };

    let settings = Settings {
        element_content_handlers: vec![
            element!("*", |el| {
                let tag = el.tag_name();
                embedded.set(match tag.as_str() {
                    "style" => Embedded::Css,
                    "script" if el.get_attribute("src").is_none() => {
                        match el
                            .get_attribute("type")
                            .unwrap_or_default()
                            .trim()
                            .to_ascii_lowercase()
                            .as_str()
                        {
                            "module" => Embedded::ModuleScript,
                            "importmap" => Embedded::ImportMap,
                            _ => Embedded::None,
                        }
                    }
                    _ => Embedded::None,
                });
                for (name, shape) in url_attributes(&tag, el) {
                    let Some(attribute) = el.attributes().iter().find(|a| a.name() == name) else {
                        continue;
                    };
                    let value = attribute.value();
                    let start = attribute
                        .value_source_location()
                        .map_or(0, |l| l.bytes().start);
                    let mut edit = Edit::default();
                    let new_value = match shape {
                        Shape::Single(role) => {
                            let (line, column) = lines.line_column(start);
                            let takes_integrity = takes_integrity(&tag, name, el);
                            let found = FoundRef {
                                value: value.clone(),
                                role,
                                line,
                                column,
                                takes_integrity,
                            };
                            edit = (visit.borrow_mut())(&found);
                            edit.url.take()
                        }
                        Shape::Srcset => rewrite_srcset(&value, |offset, url| {
                            let (line, column) = lines.line_column(start + offset);
                            let found = FoundRef {
                                value: url.to_owned(),
                                role: Role::Asset,
                                line,
                                column,
                                takes_integrity: false,
                            };
                            (visit.borrow_mut())(&found).url
                        }),
                    };
                    if let Some(new_value) = new_value.filter(|v| *v != value) {
                        el.set_attribute(name, &new_value)?;
                    }
                    if let Some(integrity) = edit.integrity {
                        if el.get_attribute("integrity").is_none() {
                            el.set_attribute("integrity", &integrity)?;
                        }
                        if edit.cross_origin && el.get_attribute("crossorigin").is_none() {
                            el.set_attribute("crossorigin", "anonymous")?;
                        }
                    }
                }
                if let Some(attribute) = el.attributes().iter().find(|a| a.name() == "style") {
                    let value = attribute.value();
                    let start = attribute
                        .value_source_location()
                        .map_or(0, |l| l.bytes().start);
                    if let Some(new_value) = rewrite_embedded(Embedded::Css, &value, start) {
                        el.set_attribute("style", &new_value)?;
                    }
                }
                Ok(())
            }),
            text!("style, script", on_text),
        ],
        encoding,
        ..Settings::new()
    };
    run_rewriter(html, settings, 256)
}

/// The strings of every inline `<script>` (classic, module, JSON of any type, import map)
/// that are not references the build rewrites, located in the document (`span` and
/// line/column are the document's): what `build/runtime_urls.rs` reads for file names code
/// fetches at run time. A classic script's `import()` is among them, since only module
/// scripts are rewritten. `keep` filters them as written ([`string_literals_where`]).
pub fn inline_script_strings(
    html: &[u8],
    encoding: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<TextRef>, RewriteError> {
    let encoding = ascii_compatible(encoding)?;
    let source = String::from_utf8_lossy(html);
    let lines = LineIndex::new(&source);
    // The kind of the script being read, None outside scripts and for `src` ones.
    let kind: Cell<Option<Embedded>> = Cell::new(None);
    let pending = RefCell::new(Pending {
        text: String::new(),
        start: None,
    });
    let strings = RefCell::new(Vec::new());
    let settings = Settings {
        element_content_handlers: vec![
            element!("script", |el| {
                let kind_of = match el.get_attribute("type") {
                    _ if el.get_attribute("src").is_some() => None,
                    Some(t) if t.trim().eq_ignore_ascii_case("module") => {
                        Some(Embedded::ModuleScript)
                    }
                    Some(t) if t.trim().eq_ignore_ascii_case("importmap") => {
                        Some(Embedded::ImportMap)
                    }
                    _ => Some(Embedded::None),
                };
                kind.set(kind_of);
                Ok(())
            }),
            text!("script", |chunk| {
                let Some(kind) = kind.get() else {
                    return Ok(());
                };
                let mut p = pending.borrow_mut();
                p.start.get_or_insert(chunk.source_location().bytes().start);
                p.text.push_str(chunk.as_str());
                if !chunk.last_in_text_node() {
                    return Ok(());
                }
                let text = std::mem::take(&mut p.text);
                let start = p.start.take().unwrap_or(0);
                let rewritten: Vec<std::ops::Range<usize>> = match kind {
                    Embedded::ModuleScript => scan_js(&text).into_iter().map(|r| r.span).collect(),
                    Embedded::ImportMap => scan_json(&text, IMPORT_MAP_PATHS)
                        .map(|refs| refs.into_iter().map(|r| r.span).collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                let mut out = strings.borrow_mut();
                for mut r in string_literals_where(&text, &keep) {
                    if rewritten.contains(&r.span) {
                        continue;
                    }
                    r.span = start + r.span.start..start + r.span.end;
                    (r.line, r.column) = lines.line_column(r.span.start);
                    out.push(r);
                }
                Ok(())
            }),
        ],
        encoding,
        ..Settings::new()
    };
    run_rewriter(html, settings, 0)?;
    Ok(strings.into_inner())
}

/// A document's charset label as the encoding lol_html needs.
fn ascii_compatible(label: &str) -> Result<AsciiCompatibleEncoding, RewriteError> {
    encoding_rs::Encoding::for_label(label.as_bytes())
        .and_then(AsciiCompatibleEncoding::new)
        .ok_or_else(|| RewriteError::Charset {
            charset: label.to_owned(),
        })
}

/// Streams `html` through a rewriter with `settings`; `extra` is the room to reserve for
/// what the handlers add.
fn run_rewriter(
    html: &[u8],
    settings: Settings<'_, '_>,
    extra: usize,
) -> Result<Vec<u8>, RewriteError> {
    let parse = |e: lol_html::errors::RewritingError| RewriteError::Parse {
        message: e.to_string(),
    };
    let mut out = Vec::with_capacity(html.len() + extra);
    let mut rewriter = HtmlRewriter::new(settings, |chunk: &[u8]| out.extend_from_slice(chunk));
    rewriter.write(html).map_err(parse)?;
    rewriter.end().map_err(parse)?;
    Ok(out)
}

/// Adds `"integrity": {url: hash, ...}` to an import map's JSON, inserted before its closing
/// brace so that every other byte stays as written. None when there is nothing to add or
/// the map already has an `integrity` member (the author's own is kept).
fn add_import_map_integrity(map: &str, entries: &[(String, String)]) -> Option<String> {
    if entries.is_empty() {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(map).ok()?;
    if value.get("integrity").is_some() {
        return None;
    }
    let close = map.rfind('}')?;
    let members: Vec<String> = entries
        .iter()
        .map(|(url, hash)| {
            format!(
                "{}:{}",
                serde_json::Value::from(url.as_str()),
                serde_json::Value::from(hash.as_str())
            )
        })
        .collect();
    let head = map[..close].trim_end();
    let separator = if head.ends_with('{') { "" } else { "," };
    Some(format!(
        "{head}{separator}\"integrity\":{{{}}}{}",
        members.join(","),
        &map[head.len()..]
    ))
}

/// Appends `snippet` (HTML) to the document's `<head>`, or, without one, to its `<body>`, or
/// else to the end of the document. `assetc dev` uses it for its live-reload script; it
/// goes through the HTML rewriter so that it lands in the right place whatever the markup.
pub fn inject(html: &[u8], encoding: &str, snippet: &str) -> Result<Vec<u8>, RewriteError> {
    let encoding = ascii_compatible(encoding)?;
    let done = Cell::new(false);
    let append = |el: &mut Element| {
        if !done.replace(true) {
            el.append(snippet, ContentType::Html);
        }
        Ok(())
    };
    let settings = Settings {
        element_content_handlers: vec![element!("head", append), element!("body", append)],
        document_content_handlers: vec![lol_html::end!(|end| {
            if !done.get() {
                end.append(snippet, ContentType::Html);
            }
            Ok(())
        })],
        encoding,
        ..Settings::new()
    };
    run_rewriter(html, settings, snippet.len())
}

/// Rewrites the URLs of a `srcset` value (HTML's "parse a srcset attribute": URLs are runs
/// of non-whitespace, a trailing comma ends a candidate, descriptors follow), keeping every
/// other character. `visit` gets each URL's byte offset in `value`.
pub fn rewrite_srcset(
    value: &str,
    mut visit: impl FnMut(usize, &str) -> Option<String>,
) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
            i += 1;
        }
        out.push_str(&value[start..i]);
        if i == bytes.len() {
            break;
        }
        let url_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut url_end = i;
        let ends_candidate = value[url_start..url_end].ends_with(',');
        while url_end > url_start && bytes[url_end - 1] == b',' {
            url_end -= 1;
        }
        let url = &value[url_start..url_end];
        match visit(url_start, url) {
            Some(new) if new != url => {
                out.push_str(&new);
                changed = true;
            }
            _ => out.push_str(url),
        }
        out.push_str(&value[url_end..i]);
        if !ends_candidate {
            // Descriptors run to the next comma outside parentheses.
            let desc_start = i;
            let mut depth = 0usize;
            while i < bytes.len() {
                match bytes[i] {
                    b'(' => depth += 1,
                    b')' => depth = depth.saturating_sub(1),
                    b',' if depth == 0 => break,
                    _ => {}
                }
                i += 1;
            }
            out.push_str(&value[desc_start..i]);
        }
    }
    changed.then_some(out)
}

/// Decodes the character references that can appear in a URL attribute (`&amp;`, numeric).
pub fn decode_char_refs(value: &str) -> String {
    if !value.contains('&') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "lt" => Some('<'),
                "gt" => Some('>'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .map(|h| u32::from_str_radix(h, 16))
                    .or_else(|| name.strip_prefix('#').map(str::parse))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_script_strings_are_those_of_every_inline_script_but_its_rewritten_references() {
        let html = r#"<p title="a.png">x</p>
<script id="__config" type="application/json">{"search": "assets/w.js"}</script>
<script>fetch("data.json"); import("./lazy.js")</script>
<script type="module">import "./m.js"; const u = "img/u.svg";</script>
<script type="importmap">{"imports": {"app": "./app.js"}}</script>
<script src="s.js">"ignored"</script>"#;
        let strings = inline_script_strings(html.as_bytes(), "utf-8", |_| true).unwrap();
        let found: Vec<(&str, u32, u32)> = strings
            .iter()
            .map(|s| (s.value.as_str(), s.line, s.column))
            .collect();
        assert_eq!(
            found,
            [
                ("search", 2, 49),
                ("assets/w.js", 2, 59),
                ("data.json", 3, 16),
                // A classic script's import() is not rewritten, so it is a runtime URL.
                ("./lazy.js", 3, 37),
                ("img/u.svg", 4, 51),
                ("imports", 5, 28),
                ("app", 5, 40),
            ]
        );
        assert_eq!(&html[strings[1].span.clone()], "assets/w.js");
    }

    fn refs(html: &str) -> Vec<(String, u32, u32)> {
        let mut found = Vec::new();
        rewrite_html(html.as_bytes(), "utf-8", |r| {
            found.push((r.value.clone(), r.line, r.column));
            Edit::default()
        })
        .unwrap();
        found
    }

    #[test]
    fn finds_every_url_attribute_with_its_position() {
        let html = "<link rel=stylesheet href=\"a.css\">\n  <img src='i.png' srcset=\"s1.png 1x, s2.png 2x\">\n<video poster=p.jpg><source src=v.mp4></video><object data=o.svg></object>\n<meta property=og:image content=/og.png><meta name=description content=x.png><a href=page.html>x</a>";
        assert_eq!(
            refs(html),
            [
                ("a.css".into(), 1, 28),
                ("s1.png".into(), 2, 28),
                ("s2.png".into(), 2, 39),
                ("i.png".into(), 2, 13),
                ("p.jpg".into(), 3, 15),
                ("v.mp4".into(), 3, 33),
                ("o.svg".into(), 3, 60),
                ("/og.png".into(), 4, 33),
                ("page.html".into(), 4, 86),
            ]
        );
    }

    #[test]
    fn only_changed_tags_are_reserialised() {
        let html = "<!DOCTYPE html>\n<!-- <img src=a.png> -->\n<P CLASS=x>text &amp; more</P>\n<IMG  ALT='a'   SRC = \"a.png\"  data-x=1 >\n<img src=\"keep.png\">";
        let out = rewrite_html(html.as_bytes(), "utf-8", |r| Edit {
            url: (r.value == "a.png").then(|| "a.F.png".into()),
            ..Edit::default()
        })
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with(
                "<!DOCTYPE html>\n<!-- <img src=a.png> -->\n<P CLASS=x>text &amp; more</P>\n"
            ),
            "{out}"
        );
        assert!(out.ends_with("\n<img src=\"keep.png\">"), "{out}");
        let tag = out.lines().nth(3).unwrap();
        assert!(tag.contains("a.F.png"), "{tag}");
        let alt = tag.to_ascii_lowercase().find("alt").unwrap();
        let src = tag.to_ascii_lowercase().find("src").unwrap();
        let data = tag.find("data-x").unwrap();
        assert!(alt < src && src < data, "attribute order changed: {tag}");
    }

    #[test]
    fn srcset_candidates_keep_descriptors_and_spacing() {
        // As the HTML spec parses it, `c.png,d.png` is one URL: only a comma after it ends a candidate.
        let got = rewrite_srcset(" a.png 1x,\n  b.png   2x , c.png,d.png 100w", |_, u| {
            Some(format!("{u}!"))
        });
        assert_eq!(
            got.unwrap(),
            " a.png! 1x,\n  b.png!   2x , c.png,d.png! 100w"
        );
        let got = rewrite_srcset("data:image/png;base64,AAA= 1x, x.png 2x", |_, u| {
            Some(format!("[{u}]"))
        });
        assert_eq!(got.unwrap(), "[data:image/png;base64,AAA=] 1x, [x.png] 2x");
        assert_eq!(rewrite_srcset("a.png 1x", |_, _| None), None);
    }

    #[test]
    fn injection_goes_into_head_or_body_or_the_end() {
        let s = "<script src=/x.js></script>";
        let got =
            |html: &str| String::from_utf8(inject(html.as_bytes(), "utf-8", s).unwrap()).unwrap();
        assert_eq!(
            got("<html><head><title>t</title></head><body>b</body></html>"),
            format!("<html><head><title>t</title>{s}</head><body>b</body></html>")
        );
        assert_eq!(
            got("<body><p>x</p></body>"),
            format!("<body><p>x</p>{s}</body>")
        );
        assert_eq!(got("<p>fragment</p>"), format!("<p>fragment</p>{s}"));
    }

    #[test]
    fn import_maps_get_an_integrity_object() {
        let map = "{\n  \"imports\": {\"app\": \"./a.js\"}\n}\n";
        let got = add_import_map_integrity(map, &[("./a.js".into(), "sha384-X".into())]).unwrap();
        assert_eq!(
            got,
            "{\n  \"imports\": {\"app\": \"./a.js\"},\"integrity\":{\"./a.js\":\"sha384-X\"}\n}\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&got).unwrap();
        assert_eq!(parsed["integrity"]["./a.js"], "sha384-X");
        assert!(add_import_map_integrity(
            "{\"imports\":{},\"integrity\":{}}",
            &[("a".into(), "b".into())]
        )
        .is_none());
    }

    #[test]
    fn character_references_decode() {
        assert_eq!(
            decode_char_refs("a&amp;b&#38;c&#x26;d&bogus;"),
            "a&b&c&d&bogus;"
        );
    }

    #[test]
    fn non_ascii_compatible_charsets_are_refused() {
        assert!(rewrite_html(b"<p>", "utf-16le", |_| Edit::default()).is_err());
    }
}
