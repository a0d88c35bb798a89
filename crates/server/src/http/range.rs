//! Byte ranges (RFC 9110 §14): parsing `Range`, the byte-range arithmetic of §14.1.2, and
//! the bounded coalescing that keeps a hostile header from costing more than a small fixed
//! amount of work (CVE-2011-3192).

use std::ops::Range;

/// More range-specs than this and the header is ignored (the full 200 is sent): §14.2 lets
/// a server ignore a Range it considers abusive.
pub const MAX_SPECS: usize = 64;

/// More parts than this after coalescing and the full 200 is sent instead.
pub const MAX_PARTS: usize = 16;

/// Ranges closer than this many bytes are coalesced into one part (§14.2 "MAY coalesce"):
/// a part header costs about as much.
const COALESCE_GAP: u64 = 80;

/// One `range-spec` of a `bytes` Range (§14.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    /// `first-last` or `first-` (`last` is `None`); numbers too large for `u64` saturate.
    FromTo { first: u64, last: Option<u64> },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

/// What a `Range` header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Not a range this server supports (another unit, or too many specs): ignore it (§14.2).
    Ignore,
    /// A `bytes` range that is syntactically invalid (§14.2: 416).
    Invalid,
    /// A valid `bytes` ranges-specifier.
    Specs(Vec<Spec>),
}

/// What a valid `bytes` range set selects of a representation of `len` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Serve the whole representation with 200: too many parts, or a zero-length
    /// representation asked for by a non-zero suffix.
    Whole,
    /// One range: 206 with `Content-Range`.
    Single(Range<u64>),
    /// Several disjoint ranges in ascending order: 206 `multipart/byteranges`.
    Multiple(Vec<Range<u64>>),
    /// No range overlaps the representation: 416 (§15.5.17).
    Unsatisfiable,
}

fn number(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Saturating: a first-pos past any length is unsatisfiable; a last-pos past it clamps.
    Some(s.iter().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

/// Parses a `Range` field value (§14.1.1, §14.2). The unit is case-insensitive; the header
/// of any other unit is ignored.
pub fn parse(value: &[u8]) -> Parsed {
    let value = value.trim_ascii();
    let Some(eq) = value.iter().position(|&b| b == b'=') else {
        return Parsed::Ignore;
    };
    if !value[..eq].eq_ignore_ascii_case(b"bytes") {
        return Parsed::Ignore;
    }
    let mut specs = Vec::new();
    for element in value[eq + 1..].split(|&b| b == b',') {
        let element = element.trim_ascii();
        if element.is_empty() {
            // §5.6.1.2: empty list elements do not count.
            continue;
        }
        if specs.len() == MAX_SPECS {
            return Parsed::Ignore;
        }
        let Some(dash) = element.iter().position(|&b| b == b'-') else {
            return Parsed::Invalid;
        };
        let (first, last) = (&element[..dash], &element[dash + 1..]);
        let spec = if first.is_empty() {
            match number(last) {
                Some(n) => Spec::Suffix(n),
                None => return Parsed::Invalid,
            }
        } else {
            let Some(first) = number(first) else {
                return Parsed::Invalid;
            };
            let last = if last.is_empty() {
                None
            } else {
                match number(last) {
                    // §14.1.1: a last-pos less than first-pos is invalid.
                    Some(last) if last >= first => Some(last),
                    _ => return Parsed::Invalid,
                }
            };
            Spec::FromTo { first, last }
        };
        specs.push(spec);
    }
    if specs.is_empty() {
        return Parsed::Invalid;
    }
    Parsed::Specs(specs)
}

/// Applies §14.1.2's arithmetic to each spec for a representation of `len` bytes, drops
/// the unsatisfiable ones, sorts and coalesces the rest.
pub fn resolve(specs: &[Spec], len: u64) -> Resolved {
    let mut ranges: Vec<Range<u64>> = Vec::with_capacity(specs.len());
    let mut nonzero_suffix = false;
    for spec in specs {
        match *spec {
            Spec::FromTo { first, last } => {
                if first < len {
                    let end = last.map_or(len, |l| l.saturating_add(1).min(len));
                    ranges.push(first..end);
                }
            }
            Spec::Suffix(0) => {}
            Spec::Suffix(n) => {
                nonzero_suffix = true;
                if len > 0 {
                    ranges.push(len - n.min(len)..len);
                }
            }
        }
    }
    if ranges.is_empty() {
        // §14.1.1: for a zero-length representation only a non-zero suffix is
        // satisfiable, and the only range it can select is the whole (empty) content.
        return if len == 0 && nonzero_suffix {
            Resolved::Whole
        } else {
            Resolved::Unsatisfiable
        };
    }
    ranges.sort_unstable_by_key(|r| r.start);
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(prev) if r.start <= prev.end.saturating_add(COALESCE_GAP) => {
                prev.end = prev.end.max(r.end);
            }
            _ => merged.push(r),
        }
    }
    match merged.len() {
        1 => Resolved::Single(merged.pop().expect("one range")),
        n if n > MAX_PARTS => Resolved::Whole,
        _ => Resolved::Multiple(merged),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Parsed {
        parse(s.as_bytes())
    }

    fn r(s: &str, len: u64) -> Resolved {
        match p(s) {
            Parsed::Specs(specs) => resolve(&specs, len),
            other => panic!("{s:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn parses_specs() {
        use Spec::*;
        assert_eq!(
            p("bytes=0-499"),
            Parsed::Specs(vec![FromTo {
                first: 0,
                last: Some(499)
            }])
        );
        assert_eq!(
            p("bytes=9500-"),
            Parsed::Specs(vec![FromTo {
                first: 9500,
                last: None
            }])
        );
        assert_eq!(p("bytes=-500"), Parsed::Specs(vec![Suffix(500)]));
        assert_eq!(
            p("BYTES=1-1"),
            Parsed::Specs(vec![FromTo {
                first: 1,
                last: Some(1)
            }])
        );
        assert_eq!(
            p("bytes= 0-0 , ,-1,"),
            Parsed::Specs(vec![
                FromTo {
                    first: 0,
                    last: Some(0)
                },
                Suffix(1)
            ])
        );
        assert_eq!(
            p("bytes=99999999999999999999999-"),
            Parsed::Specs(vec![FromTo {
                first: u64::MAX,
                last: None
            }])
        );
    }

    #[test]
    fn other_units_are_ignored_and_bad_bytes_ranges_are_invalid() {
        for s in [
            "",
            "items=0-5",
            "0-5",
            "bytes",
            "bytes 0-5",
            "byte=0-5",
            "bytesx=0-1",
        ] {
            assert_eq!(p(s), Parsed::Ignore, "{s:?}");
        }
        for s in [
            "bytes=",
            "bytes=,",
            "bytes=-",
            "bytes=5-4",
            "bytes=a-b",
            "bytes=1-2-3",
            "bytes=0x1-2",
            "bytes=+1-2",
            "bytes=1- 2",
            "bytes=--1",
            "bytes=0-1,x",
            "bytes=0-1;a",
            "bytes= 1 -2",
        ] {
            assert_eq!(p(s), Parsed::Invalid, "{s:?}");
        }
    }

    #[test]
    fn too_many_specs_are_ignored_whatever_follows() {
        let many = format!("bytes={}", vec!["1-1"; MAX_SPECS + 1].join(","));
        assert_eq!(p(&many), Parsed::Ignore);
        let exactly = format!("bytes={}", vec!["1-1"; MAX_SPECS].join(","));
        assert!(matches!(p(&exactly), Parsed::Specs(v) if v.len() == MAX_SPECS));
        // Work is bounded even for a huge header: parsing stops at MAX_SPECS + 1.
        let huge = format!("bytes={}", vec!["0-"; 1_000_000].join(","));
        assert_eq!(p(&huge), Parsed::Ignore);
    }

    #[test]
    fn byte_range_arithmetic() {
        use Resolved::*;
        assert_eq!(r("bytes=0-499", 1000), Single(0..500));
        assert_eq!(r("bytes=500-999", 1000), Single(500..1000));
        assert_eq!(r("bytes=500-5000", 1000), Single(500..1000));
        assert_eq!(r("bytes=999-", 1000), Single(999..1000));
        assert_eq!(r("bytes=-1", 1000), Single(999..1000));
        assert_eq!(r("bytes=-500", 1000), Single(500..1000));
        assert_eq!(r("bytes=-5000", 1000), Single(0..1000));
        assert_eq!(r("bytes=0-18446744073709551615", 10), Single(0..10));
        assert_eq!(r("bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(r("bytes=1000-2000", 1000), Unsatisfiable);
        assert_eq!(r("bytes=-0", 1000), Unsatisfiable);
        assert_eq!(r("bytes=99999999999999999999-", 1000), Unsatisfiable);
    }

    #[test]
    fn zero_length_representations() {
        use Resolved::*;
        assert_eq!(r("bytes=0-", 0), Unsatisfiable);
        assert_eq!(r("bytes=0-0", 0), Unsatisfiable);
        assert_eq!(r("bytes=-0", 0), Unsatisfiable);
        assert_eq!(r("bytes=-5", 0), Whole);
    }

    #[test]
    fn unsatisfiable_members_are_dropped_and_the_rest_coalesced() {
        use Resolved::*;
        assert_eq!(r("bytes=0-0,2000-3000", 1000), Single(0..1));
        assert_eq!(
            r("bytes=0-9,500-509", 1000),
            Multiple(vec![0..10, 500..510])
        );
        assert_eq!(
            r("bytes=500-509,0-9", 1000),
            Multiple(vec![0..10, 500..510])
        );
        assert_eq!(r("bytes=0-9,5-20", 1000), Single(0..21));
        assert_eq!(r("bytes=0-9,50-59", 1000), Single(0..60));
        assert_eq!(r("bytes=0-0,-1", 1000), Multiple(vec![0..1, 999..1000]));
        assert_eq!(r("bytes=0-,0-,0-,0-", 1000), Single(0..1000));
    }

    #[test]
    fn many_scattered_ranges_fall_back_to_the_whole_representation() {
        let specs: Vec<String> = (0..MAX_SPECS as u64)
            .map(|i| format!("{}-{}", i * 1000, i * 1000))
            .collect();
        assert_eq!(
            r(&format!("bytes={}", specs.join(",")), 1_000_000),
            Resolved::Whole
        );
        let few: Vec<String> = (0..MAX_PARTS as u64)
            .map(|i| format!("{}-{}", i * 1000, i * 1000))
            .collect();
        assert!(
            matches!(r(&format!("bytes={}", few.join(",")), 1_000_000), Resolved::Multiple(v) if v.len() == MAX_PARTS)
        );
    }
}
