//! Content types: the `Content-Type` value a file is served with, including the charset of
//! text, decided once at build time.

/// The media type for a path, by extension, with the overrides browsers need
/// (`text/javascript` per RFC 9239, web app manifests, source maps).
pub fn media_type(path: &str) -> String {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let fixed = match ext.as_str() {
        "js" | "mjs" | "cjs" => Some("text/javascript"),
        "map" | "json" => Some("application/json"),
        "webmanifest" => Some("application/manifest+json"),
        "wasm" => Some("application/wasm"),
        "woff2" => Some("font/woff2"),
        "woff" => Some("font/woff"),
        "ttf" => Some("font/ttf"),
        "otf" => Some("font/otf"),
        "ico" => Some("image/x-icon"),
        "avif" => Some("image/avif"),
        "webp" => Some("image/webp"),
        "txt" => Some("text/plain"),
        "htm" | "html" => Some("text/html"),
        "xml" => Some("application/xml"),
        "svg" => Some("image/svg+xml"),
        "md" => Some("text/markdown"),
        _ => None,
    };
    match fixed {
        Some(t) => t.to_owned(),
        None => mime_guess::from_ext(&ext)
            .first_raw()
            .unwrap_or("application/octet-stream")
            .to_owned(),
    }
}

/// Whether a media type is text that needs a charset parameter.
pub fn is_text(media_type: &str) -> bool {
    media_type.starts_with("text/")
        || matches!(
            media_type,
            "application/json"
                | "application/manifest+json"
                | "application/xml"
                | "image/svg+xml"
                | "application/xhtml+xml"
                | "application/rss+xml"
                | "application/atom+xml"
        )
}

/// The full `Content-Type` for a file: its media type, and for text the charset the file
/// declares (a byte order mark, `<meta charset>` in HTML, `@charset` in CSS), else utf-8.
pub fn content_type(path: &str, head: &[u8]) -> String {
    let media = media_type(path);
    if !is_text(&media) {
        return media;
    }
    let charset = declared_charset(&media, head).unwrap_or_else(|| "utf-8".to_owned());
    format!("{media}; charset={charset}")
}

/// The charset a text file declares in its first bytes, lowercased.
pub fn declared_charset(media_type: &str, head: &[u8]) -> Option<String> {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return Some("utf-8".into());
    }
    if head.starts_with(b"\xFF\xFE") {
        return Some("utf-16le".into());
    }
    if head.starts_with(b"\xFE\xFF") {
        return Some("utf-16be".into());
    }
    match media_type {
        "text/html" => html_meta_charset(&head[..head.len().min(1024)]),
        "text/css" => head
            .strip_prefix(b"@charset \"")
            .and_then(|rest| rest.iter().position(|&b| b == b'"').map(|end| &rest[..end]))
            .and_then(charset_token),
        _ => None,
    }
}

/// The HTML prescan, reduced to what real pages write: `<meta charset=...>` or
/// `<meta http-equiv="content-type" content="...; charset=...">` in the first 1024 bytes.
fn html_meta_charset(head: &[u8]) -> Option<String> {
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = find(&lower[from..], b"<meta") {
        let start = from + i + 5;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(j) = find(tag, b"charset") {
            let mut rest = &tag[j + 7..];
            rest = trim_start(rest);
            if let Some(r) = rest.strip_prefix(b"=") {
                let r = trim_start(r);
                let r = r
                    .strip_prefix(b"\"")
                    .or_else(|| r.strip_prefix(b"'"))
                    .unwrap_or(r);
                let len = r
                    .iter()
                    .position(|&b| {
                        matches!(b, b'"' | b'\'' | b';' | b'/' | b'>') || b.is_ascii_whitespace()
                    })
                    .unwrap_or(r.len());
                if let Some(cs) = charset_token(&r[..len]) {
                    return Some(cs);
                }
            }
        }
        from = end;
    }
    None
}

fn charset_token(bytes: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(bytes).ok()?.trim().to_ascii_lowercase();
    let valid = !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    valid.then(|| if s == "utf8" { "utf-8".to_owned() } else { s })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// Whether a content type is worth compressing: text, JS, JSON, SVG, wasm, uncompressed
/// fonts, source maps. Not images in compressed formats, woff/woff2, archives or media.
pub fn compressible(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim();
    media.starts_with("text/")
        || matches!(
            media,
            "application/json"
                | "application/manifest+json"
                | "application/xml"
                | "application/xhtml+xml"
                | "application/rss+xml"
                | "application/atom+xml"
                | "application/wasm"
                | "application/javascript"
                | "image/svg+xml"
                | "image/x-icon"
                | "image/bmp"
                | "font/ttf"
                | "font/otf"
                | "application/vnd.ms-fontobject"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert_eq!(
            content_type("app.js", b""),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("a.mjs", b""), "text/javascript; charset=utf-8");
        assert_eq!(content_type("site.CSS", b""), "text/css; charset=utf-8");
        assert_eq!(
            content_type("x.webmanifest", b""),
            "application/manifest+json; charset=utf-8"
        );
        assert_eq!(content_type("f.woff2", b""), "font/woff2");
        assert_eq!(content_type("i.png", b""), "image/png");
        assert_eq!(content_type("LICENSE", b""), "application/octet-stream");
        assert_eq!(content_type("a.svg", b""), "image/svg+xml; charset=utf-8");
    }

    #[test]
    fn charsets_are_read_from_the_file() {
        let html = b"<!doctype html><html><head><META Charset=\"Windows-1252\">";
        assert_eq!(
            content_type("a.html", html),
            "text/html; charset=windows-1252"
        );
        let html = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\">";
        assert_eq!(
            content_type("a.html", html),
            "text/html; charset=iso-8859-1"
        );
        assert_eq!(
            content_type("a.html", b"<meta charset=utf8>"),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type("a.css", b"@charset \"koi8-r\";"),
            "text/css; charset=koi8-r"
        );
        assert_eq!(
            content_type("a.txt", b"\xFF\xFEh\0"),
            "text/plain; charset=utf-16le"
        );
        assert_eq!(
            content_type("a.html", b"<p>no meta</p>"),
            "text/html; charset=utf-8"
        );
    }
}
