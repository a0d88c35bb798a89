//! Properties of the origin's pure request logic (issue 9), checked with proptest: range
//! arithmetic never reads outside the file, negotiation never picks a coding the request
//! refuses with `q=0`, and HTTP dates and entity-tag lists round-trip.

use assetc_server::date::{format_http_date, parse_http_date};
use assetc_server::etag::{match_list, Comparison, EntityTag, ListMatch};
use assetc_server::negotiate::{negotiate_lines, Coding, Negotiated};
use assetc_server::range::{parse, resolve, Parsed, Resolved, Spec, MAX_PARTS, MAX_SPECS};
use proptest::prelude::*;

use crate::checks;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Numbers around a representation's length, where the arithmetic's edges are.
fn position(len: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        0..=len.saturating_add(2),
        Just(len.saturating_sub(1)),
        Just(u64::MAX),
        any::<u64>(),
    ]
}

fn spec(len: u64) -> impl Strategy<Value = Spec> {
    prop_oneof![
        (position(len), proptest::option::of(position(len))).prop_map(|(a, b)| {
            let (first, last) = match b {
                Some(b) => (a.min(b), Some(a.max(b))),
                None => (a, None),
            };
            Spec::FromTo { first, last }
        }),
        position(len).prop_map(Spec::Suffix),
    ]
}

fn render_spec(spec: &Spec) -> String {
    match spec {
        Spec::FromTo { first, last } => {
            format!("{first}-{}", last.map_or(String::new(), |l| l.to_string()))
        }
        Spec::Suffix(n) => format!("-{n}"),
    }
}

/// Serves `ranges` of `file` the way the server slices a representation.
fn read_parts(file: &[u8], ranges: &[std::ops::Range<u64>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in ranges {
        let (start, end) = (
            usize::try_from(r.start).unwrap(),
            usize::try_from(r.end).unwrap(),
        );
        out.extend_from_slice(&file[start..end]);
    }
    out
}

proptest! {
    #![proptest_config(config())]

    /// Every resolved part lies inside a file of `len` bytes (slicing it cannot panic),
    /// parts are sorted and disjoint, at most MAX_PARTS, and every byte a satisfiable spec
    /// asks for is served.
    #[test]
    fn range_arithmetic_never_reads_outside_the_file(
        (len, specs) in (0u64..4096).prop_flat_map(|len| (Just(len), proptest::collection::vec(spec(len), 1..=MAX_SPECS)))
    ) {
        let file: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let header = format!("bytes={}", specs.iter().map(render_spec).collect::<Vec<_>>().join(", "));
        // The header the specs are written as parses back to them.
        prop_assert_eq!(parse(header.as_bytes()), Parsed::Specs(specs.clone()));
        let mut data = format!("{len:08}").into_bytes();
        data.extend_from_slice(header.as_bytes());
        checks::check_range(&data);
        match resolve(&specs, len) {
            Resolved::Single(r) => {
                prop_assert!(r.start < r.end && r.end <= len);
                prop_assert_eq!(read_parts(&file, std::slice::from_ref(&r)).len() as u64, r.end - r.start);
            }
            Resolved::Multiple(parts) => {
                prop_assert!(parts.len() <= MAX_PARTS);
                let body = read_parts(&file, &parts);
                prop_assert!(body.len() as u64 <= len, "parts overlap: {:?}", parts);
            }
            Resolved::Whole | Resolved::Unsatisfiable => {}
        }
    }

    /// The same on any length up to `u64::MAX`, where only the arithmetic is checked.
    #[test]
    fn range_arithmetic_on_huge_lengths(
        (len, specs) in any::<u64>().prop_flat_map(|len| (Just(len), proptest::collection::vec(spec(len), 1..=8)))
    ) {
        let ranges = match resolve(&specs, len) {
            Resolved::Single(r) => vec![r],
            Resolved::Multiple(parts) => parts,
            Resolved::Whole | Resolved::Unsatisfiable => vec![],
        };
        for r in &ranges {
            prop_assert!(r.start < r.end && r.end <= len, "{:?} of {}", r, len);
        }
    }

    /// A coding refused with a valid `q=0` (in any of its spellings, case or line) is never
    /// picked, whatever else the field says; nor is a coding that is not available.
    #[test]
    fn negotiation_never_picks_a_coding_with_q_zero(
        members in proptest::collection::vec(
            (
                proptest::sample::select(&["br", "BR", "gzip", "x-gzip", "Gzip", "zstd", "identity", "*", "deflate", "compress"][..]),
                proptest::option::of(proptest::sample::select(&["0", "0.0", "0.000", "0.", "0.001", "0.5", "1", "1.000", "2", "0.0000", "abc"][..])),
                proptest::sample::select(&["", " ", "\t"][..]),
            ),
            0..8,
        ),
        line_breaks in proptest::collection::vec(any::<bool>(), 8),
        available in proptest::sample::subsequence(&[Coding::Br, Coding::Zstd, Coding::Gzip][..], 0..=3),
    ) {
        let mut lines = vec![String::new()];
        for (i, (token, q, ows)) in members.iter().enumerate() {
            let line = lines.last_mut().expect("a line");
            if !line.is_empty() {
                line.push(',');
                line.push_str(ows);
            }
            line.push_str(token);
            if let Some(q) = q {
                line.push_str(&format!("{ows};{ows}q={q}"));
            }
            if line_breaks[i] {
                lines.push(String::new());
            }
        }
        let refused = |coding: Coding| {
            members.iter().any(|(token, q, _)| {
                Coding::from_token(token.as_bytes()) == Some(coding)
                    && matches!(q, Some("0" | "0.0" | "0.000" | "0."))
            })
        };
        let result = negotiate_lines(lines.iter().map(|l| l.as_bytes()), &available);
        if let Negotiated::Coding(coding) = result {
            prop_assert!(!refused(coding), "{:?} picked {:?}", lines, coding);
            prop_assert!(available.contains(&coding), "{:?} picked {:?}", lines, coding);
        }
        // The fuzz target's property too: no refused coding, no unaccepted one, no refused identity.
        let mask = available.iter().fold(0u8, |m, c| m | 1 << (*c as u8));
        let mut data = vec![mask];
        data.extend_from_slice(lines.join("\n").as_bytes());
        checks::check_negotiate(&data);
    }

    /// Every second an IMF-fixdate can show formats to a date that parses back to it, in all
    /// three formats a recipient must accept.
    #[test]
    fn http_dates_round_trip_in_every_format(secs in 0i64..=253_402_300_799, current_year in 1970i64..=9999) {
        let imf = format_http_date(secs);
        prop_assert_eq!(parse_http_date(imf.as_bytes(), current_year), Some(secs), "{}", imf);
        // `Sun, 06 Nov 1994 08:49:37 GMT` as asctime: `Sun Nov  6 08:49:37 1994`.
        let (day_name, day, month, year, time) = (&imf[0..3], &imf[5..7], &imf[8..11], &imf[12..16], &imf[17..25]);
        let asctime = format!("{day_name} {month} {:>2} {time} {year}", day.trim_start_matches('0'));
        prop_assert_eq!(parse_http_date(asctime.as_bytes(), current_year), Some(secs), "{}", asctime);
        let mut data = format!("{:02}", current_year % 100).into_bytes();
        data.extend_from_slice(imf.as_bytes());
        checks::check_http_date(&data);
    }

    /// A list holding the current tag matches it (weakly always, strongly when both are
    /// strong), wherever it sits and however the list is split into lines.
    #[test]
    fn etag_lists_find_their_member(
        opaques in proptest::collection::vec("[!#-~]{0,12}", 0..12),
        current in "[!#-~]{0,12}",
        weak in any::<bool>(),
        at in any::<prop::sample::Index>(),
        split in any::<prop::sample::Index>(),
    ) {
        let current_tag = EntityTag { weak: false, opaque: current.as_bytes() };
        let mut members: Vec<String> = opaques.iter().map(|o| format!("\"{o}\"")).collect();
        let position = at.index(members.len() + 1);
        members.insert(position, format!("{}\"{current}\"", if weak { "W/" } else { "" }));
        let cut = split.index(members.len() + 1);
        let lines = [members[..cut].join(", "), members[cut..].join(" ,")];
        let lines = lines.iter().map(|l| l.as_bytes());
        prop_assert_eq!(match_list(lines.clone(), &current_tag, Comparison::Weak), ListMatch::Match);
        if !weak {
            prop_assert_eq!(match_list(lines, &current_tag, Comparison::Strong), ListMatch::Match);
        }
        checks::check_etag(members.join("\n").as_bytes());
    }
}
