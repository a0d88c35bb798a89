//! HTML references: every attribute that names a URL, found and rewritten with lol_html so
//! that only the start tags holding a changed reference are re-serialised.

use lol_html::{element, AsciiCompatibleEncoding, HtmlRewriter, Settings};

use crate::text_ref::LineIndex;

/// What kind of target a reference expects, which decides how a missing target is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtmlRefRole {
    /// A subresource (`<img src>`, `<link href>`, `srcset`, ...): must name a file.
    Asset,
    /// A navigation (`<a href>`, `<iframe src>`): may name a page by its clean URL or directory.
    Navigation,
}

/// A reference found in an HTML attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlRef {
    /// The URL as written in the attribute (HTML character references not decoded).
    pub value: String,
    pub role: HtmlRefRole,
    pub line: u32,
    pub column: u32,
}

/// How an attribute holds URLs.
#[derive(Clone, Copy)]
enum Shape {
    Single(HtmlRefRole),
    /// `srcset` / `imagesrcset`: comma-separated candidates with descriptors.
    Srcset,
}

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
fn url_attributes(
    tag: &str,
    element: &lol_html::html_content::Element,
) -> Vec<(&'static str, Shape)> {
    use HtmlRefRole::{Asset, Navigation};
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

/// Runs `visit` on every URL reference in `html`; where it returns a new URL, the attribute
/// is rewritten. Returns the rewritten document. `encoding` is the document's charset label.
pub fn rewrite_html(
    html: &[u8],
    encoding: &str,
    mut visit: impl FnMut(&HtmlRef) -> Option<String>,
) -> Result<Vec<u8>, String> {
    let encoding = encoding_rs::Encoding::for_label(encoding.as_bytes())
        .and_then(AsciiCompatibleEncoding::new)
        .ok_or_else(|| format!("the charset `{encoding}` is not ASCII-compatible"))?;
    // Line numbers are computed over a lossy UTF-8 view; byte offsets are exact either way.
    let text = String::from_utf8_lossy(html);
    let lines = LineIndex::new(&text);
    let mut out = Vec::with_capacity(html.len() + 256);
    let mut rewriter = HtmlRewriter::new(
        Settings {
            element_content_handlers: vec![element!("*", |el| {
                let tag = el.tag_name();
                for (name, shape) in url_attributes(&tag, el) {
                    let Some(attribute) = el.attributes().iter().find(|a| a.name() == name) else {
                        continue;
                    };
                    let value = attribute.value();
                    let start = attribute
                        .value_source_location()
                        .map_or(0, |l| l.bytes().start);
                    let new_value = match shape {
                        Shape::Single(role) => {
                            let (line, column) = lines.line_column(start);
                            visit(&HtmlRef {
                                value: value.clone(),
                                role,
                                line,
                                column,
                            })
                        }
                        Shape::Srcset => rewrite_srcset(&value, |offset, url| {
                            let (line, column) = lines.line_column(start + offset);
                            visit(&HtmlRef {
                                value: url.to_owned(),
                                role: HtmlRefRole::Asset,
                                line,
                                column,
                            })
                        }),
                    };
                    if let Some(new_value) = new_value.filter(|v| *v != value) {
                        el.set_attribute(name, &new_value)?;
                    }
                }
                Ok(())
            })],
            encoding,
            ..Settings::new()
        },
        |chunk: &[u8]| out.extend_from_slice(chunk),
    );
    rewriter.write(html).map_err(|e| e.to_string())?;
    rewriter.end().map_err(|e| e.to_string())?;
    Ok(out)
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

    fn refs(html: &str) -> Vec<(String, u32, u32)> {
        let mut found = Vec::new();
        rewrite_html(html.as_bytes(), "utf-8", |r| {
            found.push((r.value.clone(), r.line, r.column));
            None
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
        let out = rewrite_html(html.as_bytes(), "utf-8", |r| {
            (r.value == "a.png").then(|| "a.F.png".into())
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
    fn character_references_decode() {
        assert_eq!(
            decode_char_refs("a&amp;b&#38;c&#x26;d&bogus;"),
            "a&b&c&d&bogus;"
        );
    }

    #[test]
    fn non_ascii_compatible_charsets_are_refused() {
        assert!(rewrite_html(b"<p>", "utf-16le", |_| None).is_err());
    }
}
