//! Request paths (RFC 9110 §17.3, "Attacks Based on File and Path Names"): the raw path of
//! a request is percent-decoded exactly once and checked segment by segment. What survives
//! is only ever a key for an exact lookup in the build's route table, never a file path.

use std::borrow::Cow;

/// Why a request path is refused with 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not origin-form: does not start with `/` (RFC 9112 §3.2.1).
    NotOriginForm,
    /// `%` not followed by two hex digits.
    BadPercentEncoding,
    /// `%2F` or `%5C` (a separator hidden in a segment), or a raw `\`.
    EncodedSeparator,
    /// The decoded bytes are not UTF-8 (including overlong forms such as `%C0%AE`).
    InvalidUtf8,
    /// NUL or another control character.
    ControlCharacter,
    /// A `.` or `..` segment, in any encoding.
    DotSegment,
    /// A Windows drive, stream (`:`), device name (`CON`, `nul.txt`, `COM1`…) or a segment
    /// ending in a dot or a space.
    WindowsName,
}

/// What a valid request path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A path to look up: decoded, starting with `/` (the raw path itself when it has no
    /// percent-encoding: nothing is allocated for it).
    Path(Cow<'a, str>),
    /// A path with a dotfile segment (`/.env`, `/.git/config`): never served, 404.
    Hidden,
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `raw` (the path of the request-target, without the query) once and checks it.
pub fn decode(raw: &str) -> Result<Decoded<'_>, Rejection> {
    if !raw.starts_with('/') {
        return Err(Rejection::NotOriginForm);
    }
    if !raw.contains(['%', '\\']) {
        // Nothing to decode: the raw path is the path (it is UTF-8 already).
        return check(Cow::Borrowed(raw));
    }
    let raw = raw.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'%' => {
                let (Some(hi), Some(lo)) = (
                    raw.get(i + 1).copied().and_then(hex),
                    raw.get(i + 2).copied().and_then(hex),
                ) else {
                    return Err(Rejection::BadPercentEncoding);
                };
                let b = hi << 4 | lo;
                if b == b'/' || b == b'\\' {
                    return Err(Rejection::EncodedSeparator);
                }
                bytes.push(b);
                i += 3;
            }
            b'\\' => return Err(Rejection::EncodedSeparator),
            b => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    let path = String::from_utf8(bytes).map_err(|_| Rejection::InvalidUtf8)?;
    check(Cow::Owned(path))
}

/// The checks of a decoded path.
fn check(path: Cow<'_, str>) -> Result<Decoded<'_>, Rejection> {
    if path.chars().any(char::is_control) {
        return Err(Rejection::ControlCharacter);
    }
    let mut hidden = false;
    for segment in path[1..].split('/') {
        check_segment(segment)?;
        hidden |= segment.starts_with('.') && segment != ".well-known";
    }
    Ok(if hidden {
        Decoded::Hidden
    } else {
        Decoded::Path(path)
    })
}

/// The checks every segment of a served path passes: requests with a segment that fails
/// them are refused, and manifest entries that fail them are never routed.
pub fn check_segment(segment: &str) -> Result<(), Rejection> {
    if segment == "." || segment == ".." {
        return Err(Rejection::DotSegment);
    }
    if segment.contains(':') || segment.ends_with('.') || segment.ends_with(' ') {
        return Err(Rejection::WindowsName);
    }
    if is_windows_device(segment) {
        return Err(Rejection::WindowsName);
    }
    Ok(())
}

/// `CON`, `PRN`, `AUX`, `NUL`, `COM0-9`, `LPT0-9` (and the superscript digits Windows also
/// accepts), in any case, with or without an extension (`nul.txt`, `com1.tar.gz`).
fn is_windows_device(segment: &str) -> bool {
    let stem = segment
        .split('.')
        .next()
        .unwrap_or(segment)
        .trim_end_matches(' ');
    // The longest name is 7 bytes (`CONOUT$`): upper-cased on the stack, not allocated.
    let mut buf = [0u8; 7];
    let Some(upper) = buf.get_mut(..stem.len()) else {
        return false;
    };
    upper.copy_from_slice(stem.as_bytes());
    upper.make_ascii_uppercase();
    let Ok(upper) = std::str::from_utf8(upper) else {
        return false;
    };
    match upper {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        s if s.len() >= 4 && (s.starts_with("COM") || s.starts_with("LPT")) => {
            let rest = &s[3..];
            matches!(
                rest,
                "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³"
            )
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Rejection::*;

    fn ok(raw: &str) -> String {
        match decode(raw) {
            Ok(Decoded::Path(p)) => p.into_owned(),
            other => panic!("{raw:?} gave {other:?}"),
        }
    }

    #[test]
    fn decodes_once() {
        assert_eq!(ok("/"), "/");
        assert_eq!(ok("/css/app.css"), "/css/app.css");
        assert_eq!(ok("/img/social%20card.png"), "/img/social card.png");
        assert_eq!(ok("/fonts/%E6%97%A5%E6%9C%AC.woff2"), "/fonts/日本.woff2");
        assert_eq!(ok("/%41"), "/A");
        // Double encoding stays literal: `%252e%252e` is the segment `%2e%2e`.
        assert_eq!(ok("/%252e%252e/x"), "/%2e%2e/x");
        assert_eq!(ok("/%25%32%65"), "/%2e");
        assert_eq!(ok("/a//b"), "/a//b");
        assert_eq!(ok("/.well-known/security.txt"), "/.well-known/security.txt");
        assert_eq!(ok("/a/b.c"), "/a/b.c");
    }

    #[test]
    fn rejects_hostile_paths() {
        let cases: &[(&str, Rejection)] = &[
            ("", NotOriginForm),
            ("*", NotOriginForm),
            ("a/b", NotOriginForm),
            ("../x", NotOriginForm),
            ("/%", BadPercentEncoding),
            ("/%2", BadPercentEncoding),
            ("/%zz", BadPercentEncoding),
            ("/%%32%65", BadPercentEncoding),
            ("/a%2Fb", EncodedSeparator),
            ("/a%2fb", EncodedSeparator),
            ("/a%5Cb", EncodedSeparator),
            ("/a\\b", EncodedSeparator),
            ("/%c0%ae%c0%ae/x", InvalidUtf8),
            ("/%c0%af", InvalidUtf8),
            ("/%e0%80%ae", InvalidUtf8),
            ("/%ff", InvalidUtf8),
            ("/%ed%a0%80", InvalidUtf8),
            ("/a%00b", ControlCharacter),
            ("/a%0a", ControlCharacter),
            ("/a%7f", ControlCharacter),
            ("/a%c2%85", ControlCharacter),
            ("/..", DotSegment),
            ("/../etc/passwd", DotSegment),
            ("/a/./b", DotSegment),
            ("/%2e%2e/x", DotSegment),
            ("/.%2e/x", DotSegment),
            ("/%2e./x", DotSegment),
            ("/%2E%2E", DotSegment),
            ("/a/.", DotSegment),
            ("/C:/Windows", WindowsName),
            ("/a:b", WindowsName),
            ("/file.txt::$DATA", WindowsName),
            ("/CON", WindowsName),
            ("/con", WindowsName),
            ("/nul.txt", WindowsName),
            ("/a/Com1.tar.gz", WindowsName),
            ("/LPT9", WindowsName),
            ("/COM%C2%B9", WindowsName),
            ("/aux ", WindowsName),
            ("/index.html.", WindowsName),
            ("/index.html%20", WindowsName),
        ];
        for (raw, why) in cases {
            assert_eq!(decode(raw), Err(*why), "{raw:?}");
        }
    }

    #[test]
    fn dotfiles_are_hidden() {
        for raw in [
            "/.env",
            "/.git/config",
            "/a/.DS_Store",
            "/%2egit/HEAD",
            "/.assetc/state",
        ] {
            assert_eq!(decode(raw), Ok(Decoded::Hidden), "{raw:?}");
        }
    }

    #[test]
    fn device_names_need_an_exact_stem() {
        for fine in [
            "console",
            "/connect",
            "COM10",
            "LPT",
            "nul_",
            "auxiliary.css",
        ] {
            assert!(!is_windows_device(fine), "{fine}");
        }
    }

    #[test]
    fn served_paths_encoded_as_the_build_writes_them_decode_back() {
        use assetc_core::url_ref::encode_path as encode;
        assert_eq!(encode("css/app.X-y_z.css"), "css/app.X-y_z.css");
        assert_eq!(encode("img/social card.png"), "img/social%20card.png");
        assert_eq!(encode("a/100%?#.txt"), "a/100%25%3F%23.txt");
        assert_eq!(encode("日本.txt"), "%E6%97%A5%E6%9C%AC.txt");
        assert_eq!(ok(&format!("/{}", encode("a b/ü%.css"))), "/a b/ü%.css");
    }
}
