//! `Link: rel=preload` hints for pages (`Options::preload_links`), from the manifest's
//! reference graph, built once at load: what a page needs before its first render, written
//! as the page writes those URLs, so that a browser (or a CDN turning them into 103 Early
//! Hints) starts those fetches before it has parsed the HTML, the CSS or the modules that
//! name them.
//!
//! A hint that does not match the request the page later makes is worse than none: the
//! browser fetches the file twice and warns that the preload was not used. So a hint is
//! only given where the manifest says enough to get its kind right:
//!
//! - `as=style` for the page's stylesheets and the stylesheets they `@import`;
//! - `as=font` with `crossorigin` (fonts are always fetched in CORS mode) for the fonts
//!   those stylesheets reference, leaving out a `.woff`, `.ttf` or `.otf` when the same
//!   stylesheet also references a `.woff2` of the same name (its fallback for old browsers);
//! - `rel=modulepreload` for the page's module scripts and, transitively, the modules they
//!   import. A script is known to be a module when it imports another script or is imported
//!   by one (`import`, `export … from` and `import.meta` exist only in modules). A script
//!   that does neither may be classic or a module, and the two need different hints (a
//!   classic script is fetched without CORS, a module with it), so it gets none: the
//!   browser's preload scanner finds its `<script>` tag in the first bytes of the page
//!   anyway.
//!
//! The manifest does not tell a static `import` from `import()`, so a module that is only
//! imported dynamically is hinted too (fetched and compiled early, not run).
//!
//! Hints are bounded (at most [`MAX_LINKS`] of them and [`MAX_BYTES`] of header value, in
//! the order above), so that a page with many files never makes a response head too large
//! for the proxies in front (nginx's default `proxy_buffer_size` is 4 KiB for the whole
//! head and answers 502 past it).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use actix_web::http::header::{self, HeaderName, HeaderValue};
use assetc_core::manifest::{EntryRef, ManifestError, ManifestRef, Text};
use assetc_core::url_ref::encode_path;

use crate::route::HeaderList;

/// At most this many hints per page.
pub(crate) const MAX_LINKS: usize = 16;
/// At most this many bytes in a page's `Link` value.
pub(crate) const MAX_BYTES: usize = 2048;

/// What a hinted file is to the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Style,
    Font,
    Module,
}

impl Kind {
    /// The link parameters after the target (RFC 8288 §3; `as` and `crossorigin` from the
    /// HTML standard's preload and CORS settings).
    fn params(self) -> &'static str {
        match self {
            Kind::Style => "rel=preload; as=style",
            Kind::Font => "rel=preload; as=font; crossorigin",
            Kind::Module => "rel=modulepreload",
        }
    }
}

/// The media type of an entry, without parameters.
fn media_type<'a>(entry: &'a EntryRef<'_>) -> &'a str {
    entry
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
}

fn is_page(entry: &EntryRef<'_>) -> bool {
    matches!(media_type(entry), "text/html" | "application/xhtml+xml")
}

fn is_style(entry: &EntryRef<'_>) -> bool {
    media_type(entry) == "text/css"
}

fn is_script(entry: &EntryRef<'_>) -> bool {
    media_type(entry) == "text/javascript"
}

fn is_font(entry: &EntryRef<'_>) -> bool {
    media_type(entry).starts_with("font/")
}

/// The `Link` value of every page that has hints, by logical path; an error when the
/// references of a page, stylesheet or script are not a list of strings.
pub(crate) fn page_links(
    manifest: &ManifestRef<'_>,
) -> Result<BTreeMap<String, HeaderValue>, ManifestError> {
    let entries = &manifest.entries;
    let get = |logical: &str| entries.get(logical);
    // The references of the entries whose references are followed, parsed once.
    let mut references: HashMap<&str, Vec<Text<'_>>> = HashMap::new();
    for (logical, entry) in entries.iter() {
        if is_page(entry) || is_style(entry) || is_script(entry) {
            references.insert(logical.as_str(), entry.references()?);
        }
    }
    let refs = |logical: &str| references.get(logical).map_or(&[][..], Vec::as_slice);
    // Scripts imported by a script, and scripts that import one: modules for certain.
    let mut modules: HashSet<&str> = HashSet::new();
    for (logical, _) in entries.iter().filter(|(_, e)| is_script(e)) {
        for target in refs(logical) {
            if get(target).is_some_and(is_script) {
                modules.insert(logical.as_str());
                modules.insert(target.as_str());
            }
        }
    }

    let mut out = BTreeMap::new();
    for (logical, _) in entries.iter().filter(|(_, e)| is_page(e)) {
        let mut hints: Vec<(&str, Kind)> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();

        // Stylesheets, breadth first through `@import`.
        let mut styles: Vec<&str> = Vec::new();
        let mut queue: VecDeque<&str> = refs(logical)
            .iter()
            .map(Text::as_str)
            .filter(|r| get(r).is_some_and(is_style))
            .collect();
        while let Some(style) = queue.pop_front() {
            if !seen.insert(style) {
                continue;
            }
            styles.push(style);
            hints.push((style, Kind::Style));
            for target in refs(style) {
                if get(target).is_some_and(is_style) {
                    queue.push_back(target);
                }
            }
        }
        // Their fonts, without a fallback format beside a `.woff2` of the same name.
        for style in &styles {
            let fonts: Vec<&str> = refs(style)
                .iter()
                .map(Text::as_str)
                .filter(|r| get(r).is_some_and(is_font))
                .collect();
            for font in &fonts {
                let fallback = !font.ends_with(".woff2")
                    && font.rsplit_once('.').is_some_and(|(stem, _)| {
                        fonts.iter().any(|f| *f == format!("{stem}.woff2"))
                    });
                if !fallback && seen.insert(font) {
                    hints.push((font, Kind::Font));
                }
            }
        }
        // Module scripts, breadth first through their imports.
        let mut queue: VecDeque<&str> = refs(logical)
            .iter()
            .map(Text::as_str)
            .filter(|r| modules.contains(r))
            .collect();
        while let Some(module) = queue.pop_front() {
            if !seen.insert(module) {
                continue;
            }
            hints.push((module, Kind::Module));
            for target in refs(module) {
                if get(target).is_some_and(is_script) {
                    queue.push_back(target);
                }
            }
        }

        let mut value = String::new();
        for (count, (target, kind)) in hints.into_iter().enumerate() {
            let url = format!(
                "{}{}",
                manifest.base_url,
                encode_path(&entries[target].path)
            );
            let link = format!("<{url}>; {}", kind.params());
            let separator = if value.is_empty() { "" } else { ", " };
            if count == MAX_LINKS || value.len() + separator.len() + link.len() > MAX_BYTES {
                break;
            }
            value.push_str(separator);
            value.push_str(&link);
        }
        // Percent-encoded paths and an ASCII base URL: always a valid value; a base URL
        // with bytes a header cannot carry gets no hints rather than a broken header.
        if let Ok(value) = HeaderValue::from_str(&value) {
            if !value.is_empty() {
                out.insert(logical.as_str().to_owned(), value);
            }
        }
    }
    Ok(out)
}

/// A route's extra headers with the page's hints added: a `Link` a header rule sets for the
/// URL comes first in the same field, then the hints (RFC 8288 §3: one list).
pub(crate) fn with_links(links: Option<&HeaderValue>, extra: HeaderList) -> HeaderList {
    let Some(links) = links else {
        return extra;
    };
    let mut headers: Vec<(HeaderName, HeaderValue)> = extra.to_vec();
    match headers.iter_mut().find(|(name, _)| name == header::LINK) {
        Some((_, value)) => {
            let mut combined = value.as_bytes().to_vec();
            combined.extend_from_slice(b", ");
            combined.extend_from_slice(links.as_bytes());
            *value = HeaderValue::from_bytes(&combined).expect("two valid values and a comma");
        }
        None => headers.push((header::LINK, links.clone())),
    }
    headers.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use assetc_core::{Entry, Manifest};

    /// The hints of a manifest, read as the load reads it.
    fn hints(m: &Manifest) -> BTreeMap<String, HeaderValue> {
        let json = m.to_json();
        page_links(&ManifestRef::from_json(&json).unwrap()).unwrap()
    }

    fn entry(path: &str, content_type: &str, references: &[&str]) -> Entry {
        Entry {
            content_type: content_type.into(),
            path: path.into(),
            references: references.iter().map(|r| (*r).to_owned()).collect(),
            ..Entry::default()
        }
    }

    fn manifest(base_url: &str, entries: &[(&str, Entry)]) -> Manifest {
        let mut m = Manifest::new(base_url);
        for (logical, e) in entries {
            m.entries.insert((*logical).to_owned(), e.clone());
        }
        m
    }

    fn site(base_url: &str) -> Manifest {
        let html = "text/html; charset=utf-8";
        let css = "text/css; charset=utf-8";
        let js = "text/javascript; charset=utf-8";
        manifest(
            base_url,
            &[
                (
                    "index.html",
                    entry(
                        "index.html",
                        html,
                        &[
                            "about.html",
                            "css/site.css",
                            "img/a.png",
                            "js/app.js",
                            "js/old.js",
                        ],
                    ),
                ),
                ("about.html", entry("about.html", html, &["js/old.js"])),
                (
                    "css/site.css",
                    entry(
                        "css/site.F1.css",
                        css,
                        &[
                            "css/base.css",
                            "fonts/a.woff",
                            "fonts/a.woff2",
                            "fonts/b.ttf",
                            "img/bg.png",
                        ],
                    ),
                ),
                (
                    "css/base.css",
                    entry("css/base.F2.css", css, &["css/site.css"]),
                ),
                ("fonts/a.woff", entry("fonts/a.F3.woff", "font/woff", &[])),
                (
                    "fonts/a.woff2",
                    entry("fonts/a.F4.woff2", "font/woff2", &[]),
                ),
                ("fonts/b.ttf", entry("fonts/b.F5.ttf", "font/ttf", &[])),
                ("img/a.png", entry("img/a.F6.png", "image/png", &[])),
                ("img/bg.png", entry("img/bg.F7.png", "image/png", &[])),
                (
                    "js/app.js",
                    entry("js/app.F8.js", js, &["js/util.js", "js/app.js.map"]),
                ),
                ("js/util.js", entry("js/util.F9.js", js, &["js/deep.js"])),
                ("js/deep.js", entry("js/deep.FA.js", js, &[])),
                (
                    "js/app.js.map",
                    entry("js/app.FB.js.map", "application/json", &[]),
                ),
                ("js/old.js", entry("js/old.FC.js", js, &[])),
            ],
        )
    }

    #[test]
    fn styles_their_fonts_and_modules_with_their_imports_in_that_order() {
        let links = hints(&site("/"));
        assert_eq!(
            links["index.html"].to_str().unwrap(),
            "</css/site.F1.css>; rel=preload; as=style, \
             </css/base.F2.css>; rel=preload; as=style, \
             </fonts/a.F4.woff2>; rel=preload; as=font; crossorigin, \
             </fonts/b.F5.ttf>; rel=preload; as=font; crossorigin, \
             </js/app.F8.js>; rel=modulepreload, \
             </js/util.F9.js>; rel=modulepreload, \
             </js/deep.FA.js>; rel=modulepreload"
        );
        // A script that neither imports nor is imported may be classic: no hint, and a page
        // with nothing else to hint has no header at all.
        assert!(!links.contains_key("about.html"), "{links:?}");
        assert_eq!(links.len(), 1);
    }

    #[test]
    fn urls_are_written_under_the_base_url_percent_encoded() {
        let mut m = site("https://cdn.example.com/static/");
        m.entries.get_mut("css/site.css").unwrap().path = "css/a b<ü>.F1.css".into();
        let links = hints(&m);
        let value = links["index.html"].to_str().unwrap();
        assert!(
            value.starts_with(
                "<https://cdn.example.com/static/css/a%20b%3C%C3%BC%3E.F1.css>; rel=preload; as=style, "
            ),
            "{value}"
        );
    }

    #[test]
    fn bounded_in_count_and_bytes() {
        let js = "text/javascript";
        let mut entries = vec![];
        let many: Vec<String> = (0..40).map(|i| format!("js/m{i:02}.js")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        entries.push(("index.html", entry("index.html", "text/html", &refs)));
        // Each imports the next, so all are modules.
        let paths: Vec<String> = (0..40).map(|i| format!("js/m{i:02}.F.js")).collect();
        for i in 0..40 {
            let next = many.get(i + 1).map(String::as_str);
            let refs: Vec<&str> = next.into_iter().collect();
            entries.push((many[i].as_str(), entry(&paths[i], js, &refs)));
        }
        let links = hints(&manifest("/", &entries));
        let value = links["index.html"].to_str().unwrap();
        assert_eq!(value.matches("rel=modulepreload").count(), MAX_LINKS);
        assert!(value.starts_with("</js/m00.F.js>; rel=modulepreload, </js/m01.F.js>"));

        let long = format!("js/{}.F.js", "x".repeat(600));
        let entries = [
            (
                "index.html",
                entry("index.html", "text/html", &["a.js", "b.js", "c.js", "d.js"]),
            ),
            ("a.js", entry(&long.replace("x.", "a."), js, &["b.js"])),
            ("b.js", entry(&long.replace("x.", "b."), js, &["c.js"])),
            ("c.js", entry(&long.replace("x.", "c."), js, &["d.js"])),
            ("d.js", entry(&long.replace("x.", "d."), js, &[])),
        ];
        let links = hints(&manifest("/", &entries));
        let value = links["index.html"].to_str().unwrap();
        assert_eq!(
            value.matches("rel=modulepreload").count(),
            3,
            "{}",
            value.len()
        );
        assert!(value.len() <= MAX_BYTES);
    }

    #[test]
    fn a_header_rule_link_comes_first_in_the_same_field() {
        let hint = HeaderValue::from_static("</a.css>; rel=preload; as=style");
        let rule: HeaderList = vec![
            (
                header::LINK,
                HeaderValue::from_static("<https://cdn.example>; rel=preconnect"),
            ),
            (
                HeaderName::from_static("x-a"),
                HeaderValue::from_static("1"),
            ),
        ]
        .into();
        let out = with_links(Some(&hint), rule.clone());
        assert_eq!(
            out.iter()
                .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
                .collect::<Vec<_>>(),
            [
                (
                    "link",
                    "<https://cdn.example>; rel=preconnect, </a.css>; rel=preload; as=style"
                ),
                ("x-a", "1")
            ]
        );
        assert_eq!(&*with_links(None, rule.clone()), &*rule);
        let out = with_links(Some(&hint), Vec::new().into());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1, hint);
    }
}
