//! Properties of the origin's request parsers, checked on any input: the fuzz targets run
//! them, and `crates/server/tests/fuzz_corpus.rs` includes this file to replay the committed
//! corpora on the stable toolchain.

use assetc_core::url_ref::encode_path as encode;
use assetc_server::date::{format_http_date, parse_http_date};
use assetc_server::etag::{match_list, Comparison, EntityTag, ListMatch};
use assetc_server::path::{check_segment, decode, Decoded};
use assetc_server::range::{parse, resolve, Parsed, Resolved, Spec, MAX_PARTS, MAX_SPECS};

/// The latest second an IMF-fixdate can show (9999-12-31T23:59:59Z).
const MAX_HTTP_SECS: i64 = 253_402_300_799;

/// `path::decode`: an accepted path starts with `/` and has no `.` or `..` segment, no NUL or
/// other control character, no `\`, no `:` and no Windows device name; a dotfile segment
/// makes it hidden; and encoding it for a URL decodes back to the same path.
pub fn check_path_decode(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let (path, hidden) = match decode(raw) {
        Ok(Decoded::Path(p)) => (p, false),
        Ok(Decoded::Hidden) => {
            // Hidden is only ever about a dot segment: strip the dots and the rest decodes.
            let raw_path = raw.replace("%2e", ".").replace("%2E", ".");
            assert!(
                raw_path.split('/').any(|s| s.starts_with('.')),
                "{raw:?} hidden without a dot segment"
            );
            return;
        }
        Err(_) => return,
    };
    assert!(path.starts_with('/'), "{raw:?} decoded to {path:?}");
    assert!(
        !path
            .chars()
            .any(|c| c.is_control() || c == '\\' || c == ':'),
        "{raw:?} decoded to {path:?}"
    );
    for segment in path[1..].split('/') {
        assert!(
            segment != "." && segment != "..",
            "{raw:?} decoded to {path:?}"
        );
        assert_eq!(
            check_segment(segment),
            Ok(()),
            "{raw:?} decoded to {path:?}"
        );
        assert!(
            hidden || !segment.starts_with('.') || segment == ".well-known",
            "{raw:?} decoded to a dotfile path {path:?} that is not hidden"
        );
    }
    assert!(
        !raw.contains('\\') && !raw.to_ascii_lowercase().contains("%2f"),
        "{raw:?} hid a separator and was accepted"
    );
    // Decoding happens once: the URL of the decoded path decodes to the same path.
    assert_eq!(
        decode(&encode(&path)),
        Ok(Decoded::Path(path.clone())),
        "{raw:?} decoded to {path:?}, whose encoding {:?} does not decode back",
        encode(&path)
    );
}

fn render(tag: &EntityTag<'_>) -> Vec<u8> {
    let mut out = if tag.weak {
        b"W/\"".to_vec()
    } else {
        b"\"".to_vec()
    };
    out.extend_from_slice(tag.opaque);
    out.push(b'"');
    out
}

/// `EntityTag::parse` and `match_list`: a parsed tag renders back to its input; the current
/// tag always matches itself; a strong match is also a weak one; validity does not depend on
/// the comparison; and lines of a field mean what they mean combined with `, ` (RFC 9110 §5.3).
///
/// The input is the field's lines separated by `\n`; the first line is also tried as the
/// current tag.
pub fn check_etag(data: &[u8]) {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    for line in &lines {
        if let Some(tag) = EntityTag::parse(line) {
            assert_eq!(render(&tag), *line, "{:?}", String::from_utf8_lossy(line));
            for cmp in [Comparison::Strong, Comparison::Weak] {
                let expected = if tag.weak && cmp == Comparison::Strong {
                    ListMatch::NoMatch
                } else {
                    ListMatch::Match
                };
                assert_eq!(match_list([*line], &tag, cmp), expected);
            }
        }
    }
    let current_tags = [
        EntityTag {
            weak: false,
            opaque: b"abc",
        },
        EntityTag::parse(lines[0]).unwrap_or(EntityTag {
            weak: false,
            opaque: b"",
        }),
    ];
    for current in &current_tags {
        let strong = match_list(lines.iter().copied(), current, Comparison::Strong);
        let weak = match_list(lines.iter().copied(), current, Comparison::Weak);
        let lossy = String::from_utf8_lossy(data);
        match strong {
            ListMatch::Any | ListMatch::Invalid => assert_eq!(weak, strong, "{lossy:?}"),
            ListMatch::Match => assert_eq!(weak, ListMatch::Match, "{lossy:?}"),
            ListMatch::NoMatch => assert!(
                matches!(weak, ListMatch::Match | ListMatch::NoMatch),
                "{lossy:?}"
            ),
        }
        if weak == ListMatch::Match {
            let needle = render(&EntityTag {
                weak: false,
                opaque: current.opaque,
            });
            assert!(
                data.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{lossy:?} matched {current:?} without containing it"
            );
        }
        if !lines.iter().any(|l| l.trim_ascii() == b"*") {
            let joined = lines.join(&b", "[..]);
            for (cmp, result) in [(Comparison::Strong, strong), (Comparison::Weak, weak)] {
                assert_eq!(
                    match_list([joined.as_slice()], current, cmp),
                    result,
                    "lines and their comma-joined form disagree: {lossy:?}"
                );
            }
        }
    }
}

/// `parse_http_date`: a parsed date is one that formats back (when it is in the range an
/// IMF-fixdate can show) to a date that parses to the same second; an IMF-fixdate that parses
/// is exactly the canonical form of its second; an RFC 850 year lands within 50 years of the
/// current one. The first two bytes choose the current year (two ASCII digits `26` are 2026;
/// other bytes pick one in 1970..=9999); the first eight bytes of the rest, read as a time, also
/// round-trip through the formatter.
pub fn check_http_date(data: &[u8]) {
    let Some((year_bytes, value)) = data.split_at_checked(2) else {
        return;
    };
    let current_year = match std::str::from_utf8(year_bytes)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
    {
        Some(two_digits) => 2000 + two_digits,
        None => 1970 + i64::from(u16::from_le_bytes([data[0], data[1]]) % 8030),
    };
    if let Some(secs) = parse_http_date(value, current_year) {
        let text = String::from_utf8_lossy(value);
        if (0..=MAX_HTTP_SECS).contains(&secs) {
            let formatted = format_http_date(secs);
            assert_eq!(
                parse_http_date(formatted.as_bytes(), current_year),
                Some(secs),
                "{text:?} parsed to {secs}, formatted as {formatted:?}"
            );
            if value.len() == 29 && value.ends_with(b" GMT") && value[3] == b',' {
                assert_eq!(formatted, text, "{text:?} is not canonical");
            }
        }
        if value.contains(&b'-') && value.ends_with(b" GMT") {
            let year = assetc_server::date::year_of(secs);
            if (0..=MAX_HTTP_SECS).contains(&secs) {
                assert!(
                    year > current_year - 50 && year <= current_year + 50,
                    "{text:?} read as year {year} in {current_year}"
                );
            }
        }
    }
    if let Some(bytes) = value.get(..8) {
        let secs = i64::from_le_bytes(bytes.try_into().expect("eight bytes"));
        let clamped = secs.clamp(0, MAX_HTTP_SECS);
        let formatted = format_http_date(secs);
        assert_eq!(formatted.len(), 29, "{formatted:?}");
        assert_eq!(
            parse_http_date(formatted.as_bytes(), current_year),
            Some(clamped),
            "{secs} formatted as {formatted:?}"
        );
    }
}

/// The byte range a spec selects of `len` bytes by RFC 9110 §14.1.2, if any.
fn spec_range(spec: Spec, len: u64) -> Option<std::ops::Range<u64>> {
    match spec {
        Spec::FromTo { first, last } if first < len => {
            Some(first..last.map_or(len, |l| l.saturating_add(1).min(len)))
        }
        Spec::FromTo { .. } | Spec::Suffix(0) => None,
        Spec::Suffix(n) => (len > 0).then(|| len - n.min(len)..len),
    }
}

/// `range::parse` and `range::resolve`: a parsed set has 1..=MAX_SPECS specs with
/// `first <= last`; resolved ranges are non-empty, inside the representation, sorted,
/// disjoint, at most MAX_PARTS of them, and cover every byte any spec asks for; the answer is
/// 416 only when no spec is satisfiable. The first eight bytes are the length (eight ASCII
/// digits are read as a number, `00001000`; other bytes as a little-endian `u64`, tried both
/// as it is and modulo 2048), the rest is the header.
pub fn check_range(data: &[u8]) {
    let Some((len_bytes, header)) = data.split_at_checked(8) else {
        return;
    };
    let raw = match std::str::from_utf8(len_bytes)
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(decimal) => decimal,
        None => u64::from_le_bytes(len_bytes.try_into().expect("eight bytes")),
    };
    let lossy = String::from_utf8_lossy(header);
    for len in [raw % 2048, raw] {
        let specs = match parse(header) {
            Parsed::Specs(specs) => specs,
            Parsed::Ignore | Parsed::Invalid => return,
        };
        assert!(
            !specs.is_empty() && specs.len() <= MAX_SPECS,
            "{lossy:?}: {specs:?}"
        );
        for spec in &specs {
            if let Spec::FromTo {
                first,
                last: Some(last),
            } = *spec
            {
                assert!(first <= last, "{lossy:?}: {spec:?}");
            }
        }
        let wanted: Vec<_> = specs.iter().filter_map(|&s| spec_range(s, len)).collect();
        match resolve(&specs, len) {
            Resolved::Unsatisfiable => {
                assert!(wanted.is_empty(), "{lossy:?} of {len}: 416 but {wanted:?}");
                assert!(
                    len > 0 || !specs.iter().any(|s| matches!(s, Spec::Suffix(n) if *n > 0)),
                    "{lossy:?}: a non-zero suffix of an empty representation is the whole"
                );
            }
            Resolved::Whole => assert!(
                len == 0 || wanted.len() > MAX_PARTS,
                "{lossy:?} of {len}: the whole representation for {wanted:?}"
            ),
            Resolved::Single(r) => check_parts(&lossy, len, &[r], &wanted),
            Resolved::Multiple(parts) => {
                assert!(
                    parts.len() >= 2 && parts.len() <= MAX_PARTS,
                    "{lossy:?} of {len}: {parts:?}"
                );
                check_parts(&lossy, len, &parts, &wanted);
            }
        }
    }
}

fn check_parts(
    header: &str,
    len: u64,
    parts: &[std::ops::Range<u64>],
    wanted: &[std::ops::Range<u64>],
) {
    let mut previous_end = None;
    for part in parts {
        assert!(
            part.start < part.end && part.end <= len,
            "{header:?} of {len}: part {part:?} reads outside the representation"
        );
        if let Some(end) = previous_end {
            assert!(
                part.start > end,
                "{header:?} of {len}: parts {parts:?} overlap or touch"
            );
        }
        previous_end = Some(part.end);
    }
    for w in wanted.iter().filter(|w| !w.is_empty()) {
        assert!(
            parts.iter().any(|p| p.start <= w.start && w.end <= p.end),
            "{header:?} of {len}: {w:?} is not served by {parts:?}"
        );
    }
}

/// The weights an `Accept-Encoding` field gives each token, read independently of
/// `negotiate` (RFC 9110 §12.5.3, §12.4.2): a member is `token *( OWS ";" OWS name=value )`;
/// a member with a malformed token, parameter or `q` is ignored. Tokens are lowercased and
/// `x-gzip` is `gzip`; weights are in thousandths.
fn accept_encoding_weights(lines: &[&[u8]]) -> Vec<(String, u16)> {
    fn qvalue(v: &str) -> Option<u16> {
        let (int, frac) = v.split_once('.').unwrap_or((v, ""));
        if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let thousandths: u16 = format!("{frac:0<3}").parse().ok()?;
        match int {
            "0" => Some(thousandths),
            "1" if thousandths == 0 => Some(1000),
            _ => None,
        }
    }
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let mut weights = Vec::new();
    for line in lines {
        let line = String::from_utf8_lossy(line);
        'members: for member in line.split(',') {
            let mut parts = member.split(';');
            let token = parts
                .next()
                .unwrap_or("")
                .trim_matches(|c: char| c.is_ascii_whitespace());
            if token.is_empty() || !token.chars().all(tchar) {
                continue;
            }
            let mut q = 1000;
            for param in parts {
                let Some((name, value)) = param.split_once('=') else {
                    continue 'members;
                };
                if name
                    .trim_matches(|c: char| c.is_ascii_whitespace())
                    .eq_ignore_ascii_case("q")
                {
                    match qvalue(value.trim_matches(|c: char| c.is_ascii_whitespace())) {
                        Some(v) => q = v,
                        None => continue 'members,
                    }
                }
            }
            let token = token.to_ascii_lowercase();
            let token = if token == "x-gzip" {
                "gzip".to_owned()
            } else {
                token
            };
            weights.push((token, q));
        }
    }
    weights
}

/// `negotiate::negotiate_lines`: never picks a coding that is not available or that the
/// field refuses (`q=0`, or `*;q=0` when it is not listed), nor a coding the field does not
/// accept at all; never picks identity when the field refuses it; and answers 406 only when
/// identity is refused. The first byte's low three bits say which of br, zstd and gzip are
/// available; the rest is the field's lines separated by `\n` (no byte after the first: no
/// field at all).
pub fn check_negotiate(data: &[u8]) {
    use assetc_server::negotiate::{negotiate_lines, Coding, Negotiated};
    let Some((&mask, field)) = data.split_first() else {
        return;
    };
    let available: Vec<Coding> = Coding::ALL
        .into_iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, c)| c)
        .collect();
    let lines: Vec<&[u8]> = if data.len() == 1 {
        Vec::new()
    } else {
        field.split(|&b| b == b'\n').collect()
    };
    let result = negotiate_lines(lines.iter().copied(), &available);
    let weights = accept_encoding_weights(&lines);
    let mentions = |token: &str| -> Vec<u16> {
        weights
            .iter()
            .filter(|(t, _)| t == token)
            .map(|&(_, q)| q)
            .collect()
    };
    let star = mentions("*");
    // Whether the field refuses a token: a `q=0` on it, or it unlisted and a `*;q=0`.
    let refused = |token: &str| {
        let own = mentions(token);
        own.contains(&0) || (own.is_empty() && star.contains(&0))
    };
    let lossy = String::from_utf8_lossy(field);
    match result {
        Negotiated::Coding(coding) => {
            let token = coding.token();
            assert!(
                available.contains(&coding),
                "{lossy:?}: {token} is not available"
            );
            assert!(!lines.is_empty(), "a coding without Accept-Encoding");
            assert!(
                !refused(token),
                "{lossy:?} refuses {token}, which was picked"
            );
            let own = mentions(token);
            assert!(
                own.iter().any(|&q| q > 0) || (own.is_empty() && star.iter().any(|&q| q > 0)),
                "{lossy:?} does not accept {token}, which was picked"
            );
        }
        Negotiated::Identity => assert!(
            lines.is_empty() || weights.is_empty() || !refused("identity"),
            "{lossy:?} refuses identity, which was picked"
        ),
        Negotiated::NotAcceptable => assert!(
            refused("identity"),
            "{lossy:?}: 406 though identity is acceptable"
        ),
        Negotiated::Dictionary(coding) => {
            panic!("{lossy:?}: {coding:?} picked with no dictionary available")
        }
    }
}
