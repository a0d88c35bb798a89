//! The decision for a request on an existing representation: RFC 9110 §13.2.2's precondition
//! order, then Range. A pure function of the method, the request headers and the
//! representation's validators; `respond` turns its answer into a response.

use std::ops::Range;

use actix_web::http::header::{self, HeaderMap};
use actix_web::http::Method;

use crate::http::date::parse_http_date;
use crate::http::etag::{match_list, Comparison, EntityTag};
use crate::http::range::{self, Parsed, Resolved};

/// What the server knows about the selected representation.
#[derive(Debug, Clone, Copy)]
pub struct Validators<'a> {
    /// The opaque part of the representation's strong ETag.
    pub etag: &'a [u8],
    /// Last-Modified, already clamped to the response's Date (§8.8.2.1).
    pub last_modified: i64,
    /// Whether Last-Modified is a strong validator (§8.8.2.2): true for a manifest date,
    /// which changes whenever the bytes do; false once clamped to the current time.
    pub last_modified_is_strong: bool,
    /// The representation's length in bytes.
    pub len: u64,
}

/// What to answer. The status code of each is chosen in `respond`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// 200 with the whole representation.
    Full,
    /// 206 with one range. `if_range` says it answers an `If-Range` (§15.3.7: then only
    /// the required headers are repeated).
    Partial { range: Range<u64>, if_range: bool },
    /// 206 `multipart/byteranges`, parts in ascending order, disjoint.
    Multipart { ranges: Vec<Range<u64>> },
    /// 304 (§15.4.5).
    NotModified,
    /// 412 (§15.5.13).
    PreconditionFailed,
    /// 416 with `Content-Range: bytes */len` (§15.5.17).
    RangeNotSatisfiable,
}

fn lines<'h>(
    headers: &'h HeaderMap,
    name: &header::HeaderName,
) -> impl Iterator<Item = &'h [u8]> + 'h {
    headers.get_all(name).map(|v| v.as_bytes())
}

/// Whether the field `name` is exactly one line holding the strong entity-tag `"opaque"`.
fn is_exactly(headers: &HeaderMap, name: &header::HeaderName, opaque: &[u8]) -> bool {
    let mut all = headers.get_all(name);
    match (all.next(), all.next()) {
        (Some(line), None) => line
            .as_bytes()
            .strip_prefix(b"\"")
            .and_then(|rest| rest.strip_suffix(b"\""))
            .is_some_and(|inner| inner == opaque),
        _ => false,
    }
}

/// A date precondition's value: valid only as exactly one field line holding an HTTP-date.
fn single_date(headers: &HeaderMap, name: &header::HeaderName, current_year: i64) -> Option<i64> {
    let mut values = headers.get_all(name);
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    parse_http_date(first.as_bytes().trim_ascii(), current_year)
}

/// Evaluates the preconditions of RFC 9110 §13.2.2 in order, then Range (§14.2), for a
/// representation that exists and would otherwise get a 200. `current_year` places RFC 850
/// two-digit years.
pub fn decide(
    method: &Method,
    headers: &HeaderMap,
    v: &Validators<'_>,
    current_year: i64,
) -> Decision {
    let current = EntityTag {
        weak: false,
        opaque: v.etag,
    };
    let get_or_head = method == Method::GET || method == Method::HEAD;

    // Step 1: If-Match (§13.1.1), strong comparison; `*` is true as a representation exists.
    if headers.contains_key(header::IF_MATCH) {
        if !match_list(
            lines(headers, &header::IF_MATCH),
            &current,
            Comparison::Strong,
        )
        .selects()
        {
            return Decision::PreconditionFailed;
        }
    } else if let Some(date) = single_date(headers, &header::IF_UNMODIFIED_SINCE, current_year) {
        // Step 2: If-Unmodified-Since (§13.1.4), only without If-Match; false when the
        // representation was modified after the date.
        if v.last_modified > date {
            return Decision::PreconditionFailed;
        }
    }

    // Step 3: If-None-Match (§13.1.2), weak comparison.
    if headers.contains_key(header::IF_NONE_MATCH) {
        // A revalidation sends back the one ETag it got: a single field line that is
        // exactly it matches without the list being parsed (the parse would find that one
        // member, equal to ours).
        let selects = is_exactly(headers, &header::IF_NONE_MATCH, v.etag)
            || match_list(
                lines(headers, &header::IF_NONE_MATCH),
                &current,
                Comparison::Weak,
            )
            .selects();
        if selects {
            return if get_or_head {
                Decision::NotModified
            } else {
                Decision::PreconditionFailed
            };
        }
    } else if get_or_head {
        // Step 4: If-Modified-Since (§13.1.3), GET/HEAD only, without If-None-Match;
        // false (304) when not modified since the date, a future date included.
        if let Some(date) = single_date(headers, &header::IF_MODIFIED_SINCE, current_year) {
            if v.last_modified <= date {
                return Decision::NotModified;
            }
        }
    }

    // Step 5: Range, only on GET (§14.2: ignored for HEAD and every other method).
    if method != Method::GET {
        return Decision::Full;
    }
    let mut ranges = headers.get_all(header::RANGE);
    let (Some(range_value), None) = (ranges.next(), ranges.next()) else {
        // No Range, or several field lines (not a valid singleton): the whole content.
        return Decision::Full;
    };
    let specs = match range::parse(range_value.as_bytes()) {
        Parsed::Ignore => return Decision::Full,
        Parsed::Invalid => None,
        Parsed::Specs(specs) => Some(specs),
    };
    // If-Range (§13.1.5): evaluated only with a Range we would act on; when false the
    // Range is ignored and the whole content sent.
    let if_range = headers.contains_key(header::IF_RANGE);
    if if_range && !if_range_holds(headers, v, current_year) {
        return Decision::Full;
    }
    let Some(specs) = specs else {
        return Decision::RangeNotSatisfiable;
    };
    match range::resolve(&specs, v.len) {
        Resolved::Whole => Decision::Full,
        Resolved::Single(range) => Decision::Partial { range, if_range },
        Resolved::Multiple(ranges) => Decision::Multipart { ranges },
        Resolved::Unsatisfiable => Decision::RangeNotSatisfiable,
    }
}

/// §13.1.5: an entity-tag matches only by strong comparison; a date only when it equals
/// Last-Modified exactly and that is a strong validator. Anything else is false.
fn if_range_holds(headers: &HeaderMap, v: &Validators<'_>, current_year: i64) -> bool {
    let mut values = headers.get_all(header::IF_RANGE);
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let value = value.as_bytes().trim_ascii();
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        let current = EntityTag {
            weak: false,
            opaque: v.etag,
        };
        return EntityTag::parse(value).is_some_and(|t| t.strong_eq(&current));
    }
    v.last_modified_is_strong && parse_http_date(value, current_year) == Some(v.last_modified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    // Sun, 06 Nov 1994 08:49:37 GMT
    const LM: i64 = 784_111_777;
    const LM_S: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    const BEFORE: &str = "Sun, 06 Nov 1994 08:49:36 GMT";
    const AFTER: &str = "Sun, 06 Nov 1994 08:49:38 GMT";

    fn v() -> Validators<'static> {
        Validators {
            etag: b"abc",
            last_modified: LM,
            last_modified_is_strong: true,
            len: 1000,
        }
    }

    fn d(method: Method, headers: &[(&str, &str)]) -> Decision {
        dv(method, headers, &v())
    }

    fn dv(method: Method, headers: &[(&str, &str)], v: &Validators<'_>) -> Decision {
        let mut map = HeaderMap::new();
        for (n, val) in headers {
            map.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(val).unwrap(),
            );
        }
        decide(&method, &map, v, 2026)
    }

    use Decision::*;

    fn partial(range: Range<u64>) -> Decision {
        Partial {
            range,
            if_range: false,
        }
    }

    #[test]
    fn no_preconditions_is_full() {
        assert_eq!(d(Method::GET, &[]), Full);
        assert_eq!(d(Method::HEAD, &[]), Full);
    }

    #[test]
    fn if_match_is_strong_with_lists_and_star() {
        assert_eq!(d(Method::GET, &[("if-match", r#""abc""#)]), Full);
        assert_eq!(d(Method::GET, &[("if-match", r#""x", "abc""#)]), Full);
        assert_eq!(d(Method::GET, &[("if-match", "*")]), Full);
        assert_eq!(
            d(Method::GET, &[("if-match", r#"W/"abc""#)]),
            PreconditionFailed
        );
        assert_eq!(
            d(Method::GET, &[("if-match", r#""x""#)]),
            PreconditionFailed
        );
        assert_eq!(
            d(Method::HEAD, &[("if-match", r#""x""#)]),
            PreconditionFailed
        );
        assert_eq!(
            d(Method::GET, &[("if-match", "garbage")]),
            PreconditionFailed
        );
    }

    #[test]
    fn if_unmodified_since_only_without_if_match_and_only_when_valid() {
        assert_eq!(d(Method::GET, &[("if-unmodified-since", LM_S)]), Full);
        assert_eq!(d(Method::GET, &[("if-unmodified-since", AFTER)]), Full);
        assert_eq!(
            d(Method::GET, &[("if-unmodified-since", BEFORE)]),
            PreconditionFailed
        );
        assert_eq!(
            d(
                Method::GET,
                &[("if-unmodified-since", "Sunday, 06-Nov-94 08:49:36 GMT")]
            ),
            PreconditionFailed
        );
        assert_eq!(
            d(
                Method::GET,
                &[("if-unmodified-since", "Sun Nov  6 08:49:36 1994")]
            ),
            PreconditionFailed
        );
        // Ignored: If-Match present (and true), or an invalid date.
        assert_eq!(
            d(
                Method::GET,
                &[("if-match", "*"), ("if-unmodified-since", BEFORE)]
            ),
            Full
        );
        assert_eq!(
            d(Method::GET, &[("if-unmodified-since", "not a date")]),
            Full
        );
    }

    #[test]
    fn if_none_match_is_weak_with_lists_and_star() {
        assert_eq!(
            d(Method::GET, &[("if-none-match", r#""abc""#)]),
            NotModified
        );
        assert_eq!(
            d(Method::HEAD, &[("if-none-match", r#""abc""#)]),
            NotModified
        );
        assert_eq!(
            d(Method::GET, &[("if-none-match", r#"W/"abc""#)]),
            NotModified
        );
        assert_eq!(
            d(Method::GET, &[("if-none-match", r#""x", W/"abc""#)]),
            NotModified
        );
        assert_eq!(
            d(
                Method::GET,
                &[("if-none-match", r#""x""#), ("if-none-match", r#""abc""#)]
            ),
            NotModified
        );
        assert_eq!(d(Method::GET, &[("if-none-match", "*")]), NotModified);
        assert_eq!(d(Method::GET, &[("if-none-match", r#""x", "y""#)]), Full);
        assert_eq!(d(Method::GET, &[("if-none-match", "abc")]), Full);
        // Another method: 412 (never reached by the server, which answers 405 first).
        assert_eq!(
            d(Method::DELETE, &[("if-none-match", r#""abc""#)]),
            PreconditionFailed
        );
    }

    #[test]
    fn if_none_match_decided_by_the_exact_etag_as_the_list_parse_decides() {
        // The fast path for one line that is exactly the ETag must agree with the parse,
        // whether or not it applies.
        let current = EntityTag {
            weak: false,
            opaque: b"abc",
        };
        for lines in [
            &[r#""abc""#][..],
            &[r#""abc""#, r#""abc""#],
            &[r#""abc""#, "garbage"],
            &[r#""abc"#],
            &[r#"abc""#],
            &[r#"""abc"""#],
            &[r#""abcd""#],
            &[r#""ab""#],
            &[r#"W/"abc""#],
            &[r#""ab"c""#],
        ] {
            let headers: Vec<_> = lines.iter().map(|l| ("if-none-match", *l)).collect();
            let parsed = match_list(
                lines.iter().map(|l| l.as_bytes()),
                &current,
                Comparison::Weak,
            );
            let expected = if parsed.selects() { NotModified } else { Full };
            assert_eq!(d(Method::GET, &headers), expected, "{lines:?}");
        }
    }

    #[test]
    fn if_modified_since() {
        assert_eq!(d(Method::GET, &[("if-modified-since", LM_S)]), NotModified);
        assert_eq!(d(Method::GET, &[("if-modified-since", AFTER)]), NotModified);
        assert_eq!(
            d(
                Method::GET,
                &[("if-modified-since", "Fri, 31 Dec 2100 00:00:00 GMT")]
            ),
            NotModified
        );
        assert_eq!(d(Method::HEAD, &[("if-modified-since", LM_S)]), NotModified);
        assert_eq!(d(Method::GET, &[("if-modified-since", BEFORE)]), Full);
        assert_eq!(
            d(
                Method::GET,
                &[("if-modified-since", "Sunday, 06-Nov-94 08:49:37 GMT")]
            ),
            NotModified
        );
        assert_eq!(
            d(
                Method::GET,
                &[("if-modified-since", "Sun Nov  6 08:49:37 1994")]
            ),
            NotModified
        );
        // Ignored: invalid, several lines, If-None-Match present (matching or not), not GET/HEAD.
        assert_eq!(d(Method::GET, &[("if-modified-since", "garbage")]), Full);
        assert_eq!(
            d(
                Method::GET,
                &[("if-modified-since", LM_S), ("if-modified-since", LM_S)]
            ),
            Full
        );
        assert_eq!(
            d(
                Method::GET,
                &[("if-none-match", r#""x""#), ("if-modified-since", LM_S)]
            ),
            Full
        );
        assert_eq!(d(Method::POST, &[("if-modified-since", LM_S)]), Full);
    }

    #[test]
    fn evaluation_order() {
        // A failed If-Match wins over a matching If-None-Match and over Range.
        assert_eq!(
            d(
                Method::GET,
                &[
                    ("if-match", r#""x""#),
                    ("if-none-match", r#""abc""#),
                    ("range", "bytes=0-1")
                ]
            ),
            PreconditionFailed
        );
        // A failed If-Unmodified-Since wins over If-None-Match.
        assert_eq!(
            d(
                Method::GET,
                &[("if-unmodified-since", BEFORE), ("if-none-match", "*")]
            ),
            PreconditionFailed
        );
        // If-None-Match beats Range (304, not 206 or 416).
        assert_eq!(
            d(
                Method::GET,
                &[("if-none-match", r#""abc""#), ("range", "bytes=0-1")]
            ),
            NotModified
        );
        assert_eq!(
            d(
                Method::GET,
                &[("if-none-match", r#""abc""#), ("range", "bytes=5000-")]
            ),
            NotModified
        );
        assert_eq!(
            d(
                Method::GET,
                &[("if-modified-since", LM_S), ("range", "bytes=0-1")]
            ),
            NotModified
        );
        // Passing preconditions then Range.
        assert_eq!(
            d(
                Method::GET,
                &[("if-match", r#""abc""#), ("range", "bytes=0-1")]
            ),
            partial(0..2)
        );
    }

    #[test]
    fn range() {
        assert_eq!(d(Method::GET, &[("range", "bytes=0-99")]), partial(0..100));
        assert_eq!(
            d(Method::GET, &[("range", "bytes=-10")]),
            partial(990..1000)
        );
        assert_eq!(
            d(Method::GET, &[("range", "bytes=0-0,-1")]),
            Multipart {
                ranges: vec![0..1, 999..1000]
            }
        );
        assert_eq!(
            d(Method::GET, &[("range", "bytes=1000-")]),
            RangeNotSatisfiable
        );
        assert_eq!(d(Method::GET, &[("range", "bytes=")]), RangeNotSatisfiable);
        assert_eq!(
            d(Method::GET, &[("range", "bytes=5-1")]),
            RangeNotSatisfiable
        );
        assert_eq!(d(Method::GET, &[("range", "")]), Full);
        assert_eq!(d(Method::GET, &[("range", "items=0-5")]), Full);
        assert_eq!(d(Method::HEAD, &[("range", "bytes=0-1")]), Full);
        assert_eq!(d(Method::HEAD, &[("range", "bytes=5000-")]), Full);
        assert_eq!(
            d(
                Method::GET,
                &[("range", "bytes=0-1"), ("range", "bytes=3-4")]
            ),
            Full
        );
    }

    #[test]
    fn if_range() {
        let ok = |h: &[(&str, &str)]| d(Method::GET, h);
        let with = |if_range: &str| ok(&[("range", "bytes=0-9"), ("if-range", if_range)]);
        assert_eq!(
            with(r#""abc""#),
            Partial {
                range: 0..10,
                if_range: true
            }
        );
        assert_eq!(with(r#"W/"abc""#), Full);
        assert_eq!(with(r#""x""#), Full);
        assert_eq!(
            with(LM_S),
            Partial {
                range: 0..10,
                if_range: true
            }
        );
        assert_eq!(
            with("Sunday, 06-Nov-94 08:49:37 GMT"),
            Partial {
                range: 0..10,
                if_range: true
            }
        );
        assert_eq!(
            with("Sun Nov  6 08:49:37 1994"),
            Partial {
                range: 0..10,
                if_range: true
            }
        );
        // Only exact equality: a later date is not enough.
        assert_eq!(with(AFTER), Full);
        assert_eq!(with(BEFORE), Full);
        assert_eq!(with("garbage"), Full);
        // A weak Last-Modified never satisfies the date form.
        let weak = Validators {
            last_modified_is_strong: false,
            ..v()
        };
        assert_eq!(
            dv(
                Method::GET,
                &[("range", "bytes=0-9"), ("if-range", LM_S)],
                &weak
            ),
            Full
        );
        // Ignored without Range.
        assert_eq!(ok(&[("if-range", r#""x""#)]), Full);
        // A false If-Range also turns an unsatisfiable or invalid range into a 200.
        assert_eq!(
            ok(&[("range", "bytes=5000-"), ("if-range", r#""x""#)]),
            Full
        );
        assert_eq!(ok(&[("range", "bytes=x"), ("if-range", r#""x""#)]), Full);
        assert_eq!(
            ok(&[("range", "bytes=5000-"), ("if-range", r#""abc""#)]),
            RangeNotSatisfiable
        );
    }
}
