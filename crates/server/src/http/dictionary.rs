//! Compression Dictionary Transport (RFC 9842) as pure functions over header bytes and
//! names: the dictionary a request offers (`Available-Dictionary`, §2.2), and the
//! `Use-As-Dictionary` value (§2.1) of a fingerprinted file, whose `match` URL pattern is
//! derived from the build's naming (`stem.<fingerprint>.ext`, `assetc_core::fingerprint`).

use assetc_core::url_ref::encode_segment;
use assetc_core::FINGERPRINT_LEN;
use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;

/// RFC 8941 §4.2.7: parsers of a Byte Sequence should not fail on missing `=` padding.
const SF_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The SHA-256 a request's `Available-Dictionary` names (§2.2: a Structured Field Byte
/// Sequence, RFC 8941 §3.3.5, of the dictionary's SHA-256). `None` for anything else: no
/// field, several field lines (an Item cannot be a list), parameters, characters outside
/// base64, or a length other than 32 bytes; the request is then negotiated as without it.
pub fn available_dictionary<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Option<[u8; 32]> {
    let mut lines = lines.into_iter();
    let (line, None) = (lines.next()?, lines.next()) else {
        return None;
    };
    // RFC 8941 §4.2: leading and trailing SP are discarded.
    let value = line.trim_ascii();
    let inner = value.strip_prefix(b":")?.strip_suffix(b":")?;
    if !inner
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return None;
    }
    // At most 44 characters decode to 32 bytes: longer input is refused before decoding.
    if inner.len() > 44 {
        return None;
    }
    SF_BASE64.decode(inner).ok()?.try_into().ok()
}

/// The file name of a fingerprinted file around its fingerprint, as the build names it
/// (`fingerprinted_name`): `app.Xk3p9Qa1bC-_.js` of `app.js` is `("app.", ".js")`, and
/// `LICENSE.Xk3p9Qa1bC-_` of `LICENSE` is `("LICENSE.", "")`. `None` when `served_name` is
/// not `logical_name` with a fingerprint (a file named by another tool, kept as is).
pub fn around_fingerprint<'a>(
    logical_name: &str,
    served_name: &'a str,
) -> Option<(&'a str, &'a str)> {
    let (stem, ext) = match logical_name.rfind('.') {
        Some(i) if i > 0 && i + 1 < logical_name.len() => logical_name.split_at(i),
        _ => (logical_name, ""),
    };
    let fingerprint = served_name
        .strip_prefix(stem)?
        .strip_prefix('.')?
        .strip_suffix(ext)?;
    let is_fingerprint = fingerprint.len() == FINGERPRINT_LEN
        && fingerprint
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    is_fingerprint.then(|| {
        let before = stem.len() + 1;
        (
            &served_name[..before],
            &served_name[before + FINGERPRINT_LEN..],
        )
    })
}

/// Text that matches itself in a URL pattern: percent-encoded as the build writes URLs
/// (`encode_segment`, so the pattern spells a name as the pages' references do), then each
/// character the URL Pattern syntax gives a meaning escaped with `\` ("escape a pattern
/// string": `+ * ? : { } ( ) \`; the encoder already encodes `? : { } \`).
fn pattern_literal(text: &str, out: &mut String) {
    for c in encode_segment(text).chars() {
        if matches!(c, '+' | '*' | '?' | ':' | '{' | '}' | '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The `match` pattern of a fingerprinted file (`before`, `after`: the name around its
/// fingerprint, from [`around_fingerprint`]): the name with `*` for the fingerprint,
/// relative, so that it is resolved against the directory of the URL it came from (§2.1.1:
/// the pattern is parsed with the request's URL as base) and holds under any mount prefix.
/// Regexp groups are not allowed (§2.1.1), so `*` also matches other text; the server
/// checks at load that no other file it serves matches (see `load`).
pub fn match_pattern(before: &str, after: &str) -> String {
    let mut out = String::new();
    pattern_literal(before, &mut out);
    out.push('*');
    pattern_literal(after, &mut out);
    out
}

/// A relative pattern as a browser resolves it against a URL in `directory` (decoded,
/// `/static/js`; URL Pattern's "process a URLPatternInit": the base URL's directory,
/// escaped, then the pattern).
pub fn resolve(directory: &str, pattern: &str) -> String {
    let mut out = String::new();
    for segment in directory.split('/') {
        pattern_literal(segment, &mut out);
        out.push('/');
    }
    out.push_str(pattern);
    out
}

/// Whether a pattern written by [`match_pattern`] (literal characters, `\`-escapes and `*`
/// wildcards, as the URL Pattern syntax reads them) matches `path`, an encoded URL path.
/// The server's own check of its patterns; not a general URL Pattern matcher.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    // The pattern as literal runs between wildcards.
    let mut parts: Vec<String> = vec![String::new()];
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => parts.last_mut().expect("never empty").extend(chars.next()),
            '*' => parts.push(String::new()),
            c => parts.last_mut().expect("never empty").push(c),
        }
    }
    let (first, rest) = parts.split_first().expect("never empty");
    let Some(mut remaining) = path.strip_prefix(first.as_str()) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    // Greedy-free: each middle literal at its first occurrence, the last at the end.
    for part in middle {
        match remaining.find(part.as_str()) {
            Some(i) => remaining = &remaining[i + part.len()..],
            None => return false,
        }
    }
    remaining.ends_with(last.as_str())
}

/// The `Use-As-Dictionary` field value (§2.1, a Structured Field Dictionary): `match` as
/// an sf-string, and `match-dest` when the request destination is known from the type.
pub fn use_as_dictionary(pattern: &str, destination: Option<&str>) -> String {
    let mut out = String::from("match=\"");
    for c in pattern.chars() {
        // RFC 8941 §3.3.3: `\` and `"` are escaped in an sf-string.
        if matches!(c, '\\' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    if let Some(dest) = destination {
        out.push_str(&format!(", match-dest=(\"{dest}\")"));
    }
    out
}

/// The Fetch destination a file of this `Content-Type` is requested with, when it is one:
/// stylesheets are `style`, scripts `script` (module scripts included; a worker script is
/// `worker`, and then no dictionary is used: a smaller gain missed, never a wrong one).
pub fn destination(content_type: &[u8]) -> Option<&'static str> {
    let media = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if media.eq_ignore_ascii_case(b"text/css") {
        Some("style")
    } else if media.eq_ignore_ascii_case(b"text/javascript") {
        Some("script")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assetc_core::{fingerprinted_name, LogicalPath};

    const FP: &str = "Xk3p9Qa1bC-_";

    fn served(logical: &str, fp: &str) -> String {
        fingerprinted_name(&LogicalPath::new(logical).unwrap(), fp).to_string()
    }

    /// The pattern of a logical path's name, as the server derives it from its served name.
    fn pattern_of(logical: &str) -> String {
        let served = served(logical, FP);
        let (before, after) = around_fingerprint(logical, &served).unwrap();
        match_pattern(before, after)
    }

    #[test]
    fn available_dictionary_is_a_byte_sequence_of_32_bytes() {
        let hash: [u8; 32] = std::array::from_fn(|i| i as u8 * 7);
        let b64 = base64::engine::general_purpose::STANDARD.encode(hash);
        let one = |v: &str| available_dictionary([v.as_bytes()]);
        assert_eq!(one(&format!(":{b64}:")), Some(hash));
        assert_eq!(one(&format!("  :{b64}:  ")), Some(hash));
        assert_eq!(one(&format!(":{}:", b64.trim_end_matches('='))), Some(hash));
        for bad in [
            String::new(),
            b64.clone(),
            format!(":{b64}"),
            format!("{b64}:"),
            format!("\"{b64}\""),
            format!(":{b64}:;id=1"),
            format!(":{}:", &b64[..40]),
            format!(":{b64}AAAA:"),
            format!(":{}:", b64.replace('A', "-")),
            format!(":{}:", "A".repeat(10_000)),
            "::".to_owned(),
            ":!!!!:".to_owned(),
        ] {
            assert_eq!(one(&bad), None, "{bad:?}");
        }
        let line = format!(":{b64}:");
        assert_eq!(
            available_dictionary([line.as_bytes(), line.as_bytes()]),
            None
        );
        assert_eq!(available_dictionary(std::iter::empty()), None);
    }

    #[test]
    fn the_name_around_the_fingerprint() {
        for (logical, before, after) in [
            ("app.js", "app.", ".js"),
            ("jquery.min.js", "jquery.min.", ".js"),
            ("LICENSE", "LICENSE.", ""),
            (".env.js", ".env.", ".js"),
            ("a b.css", "a b.", ".css"),
            ("ünï.css", "ünï.", ".css"),
            ("x.", "x..", ""),
        ] {
            let served = served(logical, FP);
            assert_eq!(
                around_fingerprint(logical, &served),
                Some((before, after)),
                "{logical} → {served}"
            );
        }
        // Names another tool gave (kept as they are) and wrong fingerprints.
        assert_eq!(
            around_fingerprint("app-3f2a1b9c.js", "app-3f2a1b9c.js"),
            None
        );
        assert_eq!(around_fingerprint("app.js", "app.Xk3p9Qa1bC.js"), None);
        assert_eq!(around_fingerprint("app.js", "app.Xk3p9Qa1bC-!.js"), None);
        assert_eq!(around_fingerprint("app.js", "other.Xk3p9Qa1bC-_.js"), None);
    }

    #[test]
    fn patterns_escape_url_pattern_syntax_and_encode_as_references_do() {
        for (logical, pattern) in [
            ("app.js", "app.*.js"),
            ("jquery.min.js", "jquery.min.*.js"),
            ("LICENSE", "LICENSE.*"),
            ("a b.css", "a%20b.*.css"),
            ("ünï.css", "%C3%BCn%C3%AF.*.css"),
            ("c++(1).js", "c\\+\\+\\(1\\).*.js"),
            ("what?.js", "what%3F.*.js"),
            ("a:b*.js", "a%3Ab\\*.*.js"),
            ("{x}.css", "%7Bx%7D.*.css"),
            ("50%.css", "50%25.*.css"),
        ] {
            assert_eq!(pattern_of(logical), pattern, "{logical}");
        }
    }

    #[test]
    fn a_pattern_matches_every_version_of_its_name_and_not_other_names() {
        let url = |logical: &str, fp: &str| encode_segment(&served(logical, fp));
        let cases: &[(&str, &[&str])] = &[
            (
                "app.js",
                &["app.css", "app.min.js", "vendor.js", "app.js.map"],
            ),
            ("a b.css", &["a.css", "a b.min.css", "ab.css", "a+b.css"]),
            ("ünï.css", &["uni.css", "ün.css"]),
            ("c++(1).js", &["c.js", "c++(2).js", "c++.js"]),
            ("LICENSE", &["LICENSE.txt", "README"]),
        ];
        for (logical, others) in cases {
            let pattern = pattern_of(logical);
            for fp in [FP, "AAAAAAAAAAAA", "z-_9z-_9z-_9"] {
                assert!(
                    pattern_matches(&pattern, &url(logical, fp)),
                    "{pattern} {fp}"
                );
            }
            for other in *others {
                // `*` cannot be kept to a fingerprint (no regexp groups, §2.1.1): these
                // overlaps are what the load check finds and leaves the header out for.
                let expected = matches!(
                    (*logical, *other),
                    ("app.js", "app.min.js")
                        | ("a b.css", "a b.min.css")
                        | ("LICENSE", "LICENSE.txt")
                );
                assert_eq!(
                    pattern_matches(&pattern, &url(other, FP)),
                    expected,
                    "{pattern} {other}"
                );
            }
            // The identity at its logical path is not a version.
            assert!(!pattern_matches(&pattern, &encode_segment(logical)));
        }
        let resolved = resolve("/static/a b(1)", "app.*.js");
        assert_eq!(resolved, "/static/a%20b\\(1\\)/app.*.js");
        assert!(pattern_matches(
            &resolved,
            "/static/a%20b(1)/app.AAAAAAAAAAAA.js"
        ));
        assert!(!pattern_matches(&resolved, "/static/app.AAAAAAAAAAAA.js"));
        assert!(pattern_matches("a*b*c", "a-b-c"));
        assert!(!pattern_matches("a*b*c", "a-c-b"));
        assert!(pattern_matches("a\\*b", "a*b"));
        assert!(!pattern_matches("a\\*b", "axb"));
    }

    #[test]
    fn the_field_value_is_a_structured_dictionary() {
        assert_eq!(
            use_as_dictionary("app.*.js", Some("script")),
            r#"match="app.*.js", match-dest=("script")"#
        );
        assert_eq!(
            use_as_dictionary("c\\+\\+.*.css", None),
            r#"match="c\\+\\+.*.css""#
        );
        assert_eq!(destination(b"text/css; charset=utf-8"), Some("style"));
        assert_eq!(
            destination(b"text/javascript; charset=utf-8"),
            Some("script")
        );
        assert_eq!(destination(b"application/json"), None);
        assert_eq!(destination(b"image/svg+xml"), None);
    }
}
