//! URL references as written in source files: which ones are local, how their path
//! decodes, and how a fingerprinted name is written back in the same form.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

/// Characters that must be escaped inside one URL path segment: the WHATWG path set plus
/// `%` (names are encoded from their decoded form), `/` (a segment never splits) and `:`
/// (a first segment with a colon would read as a scheme: `c:d.png`).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference<'a> {
    /// Left exactly as written: empty, fragment-only, any scheme (`https:`, `data:`,
    /// `mailto:`, `javascript:`), or scheme-relative (`//host/x`).
    Untouchable,
    /// A path in this site, relative (`../a.css`) or root-relative (`/a.css`).
    Local(LocalRef<'a>),
}

/// A local reference split into its parts, each exactly as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRef<'a> {
    /// Leading whitespace kept as written (attributes may carry it).
    pub leading: &'a str,
    /// The path, still percent-encoded.
    pub path: &'a str,
    /// `?query#fragment` as written, possibly empty.
    pub suffix: &'a str,
    /// Trailing whitespace kept as written.
    pub trailing: &'a str,
    /// `path` followed by `suffix`: the reference without surrounding whitespace.
    pub trimmed: &'a str,
}

/// A local path whose percent-encoding is not valid UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` does not decode to UTF-8")]
pub struct DecodeError(pub String);

/// Classifies a reference as written.
pub fn classify(raw: &str) -> Reference<'_> {
    let is_ws = |c: char| c.is_ascii_whitespace();
    let trimmed_start = raw.trim_start_matches(is_ws);
    let trimmed = trimmed_start.trim_end_matches(is_ws);
    let leading = &raw[..raw.len() - trimmed_start.len()];
    let trailing = &trimmed_start[trimmed.len()..];
    if trimmed.is_empty() || trimmed.starts_with(['#', '?']) || has_scheme(trimmed) {
        return Reference::Untouchable;
    }
    // Browsers treat `\` as `/` in http(s) URLs, so `/\host` and `\\host` are scheme-relative.
    let mut head = trimmed
        .chars()
        .take(2)
        .map(|c| if c == '\\' { '/' } else { c });
    if head.next() == Some('/') && head.next() == Some('/') {
        return Reference::Untouchable;
    }
    let split = trimmed.find(['?', '#']).unwrap_or(trimmed.len());
    Reference::Local(LocalRef {
        leading,
        path: &trimmed[..split],
        suffix: &trimmed[split..],
        trailing,
        trimmed,
    })
}

fn has_scheme(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

impl<'a> LocalRef<'a> {
    /// The same reference with a `%23` in its path read as the start of a fragment: old font
    /// CSS writes `font.svg%23Name` where it means `font.svg#Name`.
    pub fn with_encoded_fragment(&self) -> Option<LocalRef<'a>> {
        let at = self.path.find("%23")?;
        Some(LocalRef {
            path: &self.trimmed[..at],
            suffix: &self.trimmed[at..],
            ..self.clone()
        })
    }

    /// The path with its percent-encoding decoded once.
    pub fn decoded_path(&self) -> Result<String, DecodeError> {
        percent_decode_str(self.path)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| DecodeError(self.path.to_owned()))
    }

    /// The reference rewritten to a new file name in the same directory, keeping the
    /// directory part, the query, the fragment and the surrounding whitespace as written.
    pub fn with_file_name(&self, new_name: &str) -> String {
        let dir_end = self.path.rfind('/').map_or(0, |i| i + 1);
        format!(
            "{}{}{}{}{}",
            self.leading,
            &self.path[..dir_end],
            encode_segment(new_name),
            self.suffix,
            self.trailing
        )
    }

    /// The reference rewritten to `base_url` followed by the served path.
    pub fn under_base(&self, base_url: &str, served_path: &str) -> String {
        format!(
            "{}{}{}{}{}",
            self.leading,
            base_url,
            encode_path(served_path),
            self.suffix,
            self.trailing
        )
    }
}

/// Percent-encodes one path segment.
pub fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Percent-encodes a `/`-separated path segment by segment.
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(raw: &str) -> LocalRef<'_> {
        match classify(raw) {
            Reference::Local(l) => l,
            Reference::Untouchable => panic!("{raw:?} classified as untouchable"),
        }
    }

    #[test]
    fn untouchable_references() {
        for raw in [
            "",
            "   ",
            "#top",
            "?page=2",
            "https://cdn.example.com/a.css",
            "HTTP://x/y",
            "//cdn.example.com/a.css",
            "/\\evil.example/a.js",
            "\\\\evil.example/a.js",
            "data:image/png;base64,AAAA",
            "mailto:a@example.com",
            "javascript:void(0)",
            "tel:+123",
            "blob:https://x/1",
        ] {
            assert_eq!(classify(raw), Reference::Untouchable, "{raw:?}");
        }
    }

    #[test]
    fn local_references_split_into_parts() {
        let r = local(" ../css/a.css?v=1#x ");
        assert_eq!(
            (r.leading, r.path, r.suffix, r.trailing),
            (" ", "../css/a.css", "?v=1#x", " ")
        );
        let r = local("/img/logo.png#frag");
        assert_eq!((r.path, r.suffix), ("/img/logo.png", "#frag"));
        // A colon after a slash is not a scheme.
        assert_eq!(local("./a:b.png").path, "./a:b.png");
        assert_eq!(local("1a:b.png").path, "1a:b.png");
    }

    #[test]
    fn an_encoded_hash_can_be_read_as_a_fragment() {
        let r = local("../f.svg%23F?x");
        let split = r.with_encoded_fragment().unwrap();
        assert_eq!((split.path, split.suffix), ("../f.svg", "%23F?x"));
        assert_eq!(split.with_file_name("f.X.svg"), "../f.X.svg%23F?x");
        assert!(local("a.svg").with_encoded_fragment().is_none());
    }

    #[test]
    fn percent_encoded_names_decode_once() {
        assert_eq!(
            local("social%20card.png").decoded_path().unwrap(),
            "social card.png"
        );
        assert_eq!(local("%2525.png").decoded_path().unwrap(), "%25.png");
        assert_eq!(local("caf%C3%A9.png").decoded_path().unwrap(), "café.png");
        assert!(local("%C0%AE.png").decoded_path().is_err());
    }

    #[test]
    fn rewriting_keeps_the_form_as_written() {
        assert_eq!(
            local("../css/a.css?v=1#x").with_file_name("a.XYZ.css"),
            "../css/a.XYZ.css?v=1#x"
        );
        assert_eq!(local("./a.css").with_file_name("a.XYZ.css"), "./a.XYZ.css");
        assert_eq!(
            local("/img/a b.png").with_file_name("a b.F.png"),
            "/img/a%20b.F.png"
        );
        assert_eq!(local("a.png").with_file_name("a.F.png"), "a.F.png");
        // A colon in a first segment would make a scheme.
        let rewritten = local("c%3Ad.png").with_file_name("c:d.F.png");
        assert_eq!(rewritten, "c%3Ad.F.png");
        assert!(matches!(classify(&rewritten), Reference::Local(_)));
    }

    #[test]
    fn urls_are_encoded_per_segment() {
        assert_eq!(encode_segment("a b#c?d%e/f"), "a%20b%23c%3Fd%25e%2Ff");
        assert_eq!(encode_segment("café.png"), "caf%C3%A9.png");
        assert_eq!(encode_path("img/a b/c.png"), "img/a%20b/c.png");
        assert_eq!(encode_segment("jquery.min.Ab-_9.js"), "jquery.min.Ab-_9.js");
        assert_eq!(
            local("x.css").under_base("/static/", "css/a b.F.css"),
            "/static/css/a%20b.F.css"
        );
    }
}
