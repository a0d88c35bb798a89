//! Content-coding negotiation (RFC 9110 §12.5.3): which of a resource's precompressed
//! representations a request's `Accept-Encoding` asks for, dictionary deltas (RFC 9842
//! `dcb`, `dcz`) included. A pure function, linear in the field's length, allocation-free:
//! hostile fields with thousands of members cost a scan.

pub use assetc_core::{Coding, DictCoding};

/// The representation to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiated {
    /// No content coding.
    Identity,
    /// The precompressed representation in this coding.
    Coding(Coding),
    /// The delta against the dictionary the request named, in this coding (RFC 9842).
    Dictionary(DictCoding),
    /// Nothing available is acceptable and identity is excluded: 406 (§15.5.7).
    NotAcceptable,
}

/// A member's weight in thousandths (`q=0.5` is 500), or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weight {
    /// Not mentioned.
    Unset,
    /// Mentioned; 0 means "not acceptable".
    Q(u16),
}

impl Weight {
    /// Combines two mentions of one coding: an explicit `q=0` anywhere excludes it (a
    /// refusal is never overridden), otherwise the higher weight counts.
    fn merge(self, q: u16) -> Weight {
        match self {
            Weight::Unset => Weight::Q(q),
            Weight::Q(0) => Weight::Q(0),
            Weight::Q(_) if q == 0 => Weight::Q(0),
            Weight::Q(old) => Weight::Q(old.max(q)),
        }
    }
}

/// What one `Accept-Encoding` field says, by the members the server cares about.
#[derive(Debug, Clone, Copy)]
struct Accepted {
    codings: [Weight; 3],
    /// `dcb`, `dcz`, by `DictCoding as usize`.
    dictionary: [Weight; 2],
    identity: Weight,
    star: Weight,
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` (§12.4.2), in thousandths.
fn parse_qvalue(v: &[u8]) -> Option<u16> {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(dot) => (&v[..dot], &v[dot + 1..]),
        None => (v, &[][..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths = 0u16;
    for i in 0..3 {
        thousandths = thousandths * 10 + frac.get(i).map_or(0, |d| u16::from(d - b'0'));
    }
    match int {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// One list member: `codings *( OWS ";" OWS parameter )`. Returns the coding token and its
/// weight, or `None` when the member is malformed (then it is ignored: a coding the client
/// did not clearly accept is never sent, and a refusal it did not clearly make never
/// excludes anything). Parameters other than `q` are ignored.
fn parse_member(member: &[u8]) -> Option<(&[u8], u16)> {
    let mut parts = member.split(|&b| b == b';');
    let token = parts.next()?.trim_ascii();
    if token.is_empty()
        || !token
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return None;
    }
    let mut q = 1000;
    for param in parts {
        let param = param.trim_ascii();
        let eq = param.iter().position(|&b| b == b'=')?;
        if param[..eq].trim_ascii().eq_ignore_ascii_case(b"q") {
            q = parse_qvalue(param[eq + 1..].trim_ascii())?;
        }
    }
    Some((token, q))
}

/// Reads every member of every field line. `None` when no valid member was found (an
/// empty field, or only malformed members): the client then asked for no content coding.
fn parse<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Option<Accepted> {
    let mut accepted = Accepted {
        codings: [Weight::Unset; 3],
        dictionary: [Weight::Unset; 2],
        identity: Weight::Unset,
        star: Weight::Unset,
    };
    let mut any = false;
    for line in lines {
        for member in line.split(|&b| b == b',') {
            let Some((token, q)) = parse_member(member) else {
                continue;
            };
            any = true;
            if token == b"*" {
                accepted.star = accepted.star.merge(q);
            } else if token.eq_ignore_ascii_case(b"identity") {
                accepted.identity = accepted.identity.merge(q);
            } else if let Some(coding) = Coding::from_token(token) {
                let slot = &mut accepted.codings[coding as usize];
                *slot = slot.merge(q);
            } else if let Some(coding) = DictCoding::from_token(token) {
                let slot = &mut accepted.dictionary[coding as usize];
                *slot = slot.merge(q);
            }
        }
    }
    any.then_some(accepted)
}

/// Chooses among identity and the `available` codings for an `Accept-Encoding` field
/// value (`None`: no such field). See [`negotiate_lines`].
pub fn negotiate(accept_encoding: Option<&[u8]>, available: &[Coding]) -> Negotiated {
    negotiate_lines(accept_encoding, available)
}

/// Chooses among identity and the `available` codings for the lines of an
/// `Accept-Encoding` field (no lines: no field), per RFC 9110 §12.5.3:
///
/// - no field: identity (any coding would be allowed, identity is the interoperable
///   choice); an empty field (or one with no valid member): identity only;
/// - names are case-insensitive, `x-gzip` is gzip; `q=0` means "not acceptable"; a member
///   with a malformed weight is ignored; a coding mentioned twice keeps its higher weight
///   unless one mention is `q=0`;
/// - `*` gives its weight to every coding not listed, and to identity when identity is not
///   listed;
/// - identity is acceptable unless `identity;q=0`, or `*;q=0` without an identity member;
///   when neither lists it, it ranks below every coding with a non-zero weight;
/// - the highest weight wins; equal weights go to the server's preference: br, zstd, gzip,
///   then identity;
/// - nothing acceptable with identity excluded: [`Negotiated::NotAcceptable`].
pub fn negotiate_lines<'a>(
    lines: impl IntoIterator<Item = &'a [u8]>,
    available: &[Coding],
) -> Negotiated {
    negotiate_with_dictionary(lines, available, &[])
}

/// [`negotiate_lines`], with the dictionary codings (`dcb`, `dcz`) of the delta against
/// the dictionary the request named (`Available-Dictionary`, RFC 9842 §2.2) also
/// `dictionary`-available. They are chosen only when listed by name with a non-zero weight
/// (`*` does not stand for them: a delta decodes only with the dictionary and the framing
/// of RFC 9842, which the client must say it has), and rank first among equal weights,
/// `dcb` then `dcz`: a delta is the smallest answer by far.
pub fn negotiate_with_dictionary<'a>(
    lines: impl IntoIterator<Item = &'a [u8]>,
    available: &[Coding],
    dictionary: &[DictCoding],
) -> Negotiated {
    let mut lines = lines.into_iter().peekable();
    if lines.peek().is_none() {
        return Negotiated::Identity;
    }
    let Some(accepted) = parse(lines) else {
        return Negotiated::Identity;
    };
    let effective = |w: Weight| match w {
        Weight::Q(q) => Some(q),
        Weight::Unset => match accepted.star {
            Weight::Q(q) => Some(q),
            Weight::Unset => None,
        },
    };
    // The best coding: highest weight, then the server's order (`Coding::ALL`).
    let mut best: Option<(u16, Coding)> = None;
    for coding in Coding::ALL {
        if !available.contains(&coding) {
            continue;
        }
        let q = effective(accepted.codings[coding as usize]).unwrap_or(0);
        if q > 0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, coding));
        }
    }
    // Identity: `None` when unlisted and no `*` (acceptable, ranked last).
    let identity = effective(accepted.identity);
    let mut best_delta: Option<(u16, DictCoding)> = None;
    for coding in DictCoding::ALL {
        if !dictionary.contains(&coding) {
            continue;
        }
        if let Weight::Q(q) = accepted.dictionary[coding as usize] {
            if q > 0 && best_delta.is_none_or(|(bq, _)| q > bq) {
                best_delta = Some((q, coding));
            }
        }
    }
    if let Some((q, coding)) = best_delta {
        if best.is_none_or(|(bq, _)| q >= bq) && identity.is_none_or(|iq| q >= iq) {
            return Negotiated::Dictionary(coding);
        }
    }
    match (best, identity) {
        (Some((q, coding)), Some(iq)) if q >= iq => Negotiated::Coding(coding),
        (Some((_, coding)), None) => Negotiated::Coding(coding),
        (_, Some(0)) => Negotiated::NotAcceptable,
        _ => Negotiated::Identity,
    }
}

#[cfg(test)]
mod tests {
    use super::Coding::*;
    use super::Negotiated::{Identity, NotAcceptable};
    use super::*;

    const ALL: &[Coding] = &[Br, Zstd, Gzip];

    fn n(header: Option<&str>, available: &[Coding]) -> Negotiated {
        negotiate(header.map(str::as_bytes), available)
    }

    fn c(coding: Coding) -> Negotiated {
        Negotiated::Coding(coding)
    }

    /// The table: an `Accept-Encoding` field and the choice with all three variants.
    #[test]
    fn negotiation_table() {
        let table: &[(Option<&str>, Negotiated)] = &[
            // §12.5.3: no field means identity here; an empty one, identity only.
            (None, Identity),
            (Some(""), Identity),
            (Some("  "), Identity),
            (Some(" , ,"), Identity),
            // Browsers.
            (Some("gzip, deflate, br, zstd"), c(Br)),
            (Some("gzip, deflate, br"), c(Br)),
            (Some("gzip, deflate"), c(Gzip)),
            (Some("gzip"), c(Gzip)),
            (Some("zstd"), c(Zstd)),
            (Some("deflate"), Identity),
            (Some("compress, deflate"), Identity),
            // Case-insensitive names and parameter names; x-gzip.
            (Some("GZIP"), c(Gzip)),
            (Some("Br;Q=0.5, gzip;q=0.4"), c(Br)),
            (Some("x-gzip"), c(Gzip)),
            (Some("X-GZip;q=1.0"), c(Gzip)),
            // Weights.
            (Some("br;q=0.5, gzip"), c(Gzip)),
            (Some("br;q=0.5, gzip;q=0.5"), c(Br)),
            (Some("gzip;q=0.5, zstd;q=0.5"), c(Zstd)),
            (Some("br;q=0.001, gzip;q=0.002"), c(Gzip)),
            (Some("gzip;q=1, br;q=1.000"), c(Br)),
            (Some("gzip ; q=0.8 , br ; q = 0.9"), c(Br)),
            (Some("br;q=0"), Identity),
            (Some("br;q=0.0, gzip;q=0.000"), Identity),
            (Some("gzip;q=0, gzip"), Identity),
            (Some("gzip, gzip;q=0"), Identity),
            (Some("gzip;q=0.2, gzip;q=0.9, br;q=0.5"), c(Gzip)),
            // Identity's own weight.
            (Some("identity"), Identity),
            (Some("gzip;q=0.5, identity"), Identity),
            (Some("gzip, identity"), c(Gzip)),
            (Some("gzip;q=0.5, identity;q=0.5"), c(Gzip)),
            (Some("gzip;q=0.5"), c(Gzip)),
            (Some("identity;q=0, gzip"), c(Gzip)),
            (Some("identity;q=0"), NotAcceptable),
            (Some("identity;q=0, deflate"), NotAcceptable),
            (Some("identity;q=0, br;q=0"), NotAcceptable),
            // `*`.
            (Some("*"), c(Br)),
            (Some("*;q=0.5, gzip"), c(Gzip)),
            (Some("*, br;q=0"), c(Zstd)),
            (Some("*, br;q=0, zstd;q=0"), c(Gzip)),
            (Some("*;q=0"), NotAcceptable),
            (Some("*;q=0, identity"), Identity),
            (Some("*;q=0, identity;q=0.1"), Identity),
            (Some("*;q=0, gzip;q=0.1"), c(Gzip)),
            (Some("*;q=0.3, identity;q=0.4"), Identity),
            (Some("*;q=0.5, identity;q=0.4"), c(Br)),
            (
                Some("*, identity;q=0, gzip;q=0, br;q=0, zstd;q=0"),
                NotAcceptable,
            ),
            // Malformed members are ignored, not guessed at.
            (Some("gzip;q=2"), Identity),
            (Some("gzip;q=1.5"), Identity),
            (Some("gzip;q=0.5555"), Identity),
            (Some("gzip;q=-1"), Identity),
            (Some("gzip;q="), Identity),
            (Some("gzip;q=abc, br"), c(Br)),
            (Some("gzip;q"), Identity),
            (Some("identity;q=x"), Identity),
            (Some("*;q=banana"), Identity),
            (Some("identity;q=0, gzip;q=bad"), NotAcceptable),
            (Some("g zip, br"), c(Br)),
            (Some("\"gzip\""), Identity),
            (Some(";q=1"), Identity),
            (Some("gzip;level=9"), c(Gzip)),
            (Some("gzip;q=0.5;foo=bar"), c(Gzip)),
        ];
        assert!(table.len() >= 20);
        for (header, expected) in table {
            assert_eq!(n(*header, ALL), *expected, "{header:?}");
        }
    }

    #[test]
    fn only_available_codings_are_chosen() {
        assert_eq!(n(Some("br, gzip"), &[Gzip]), c(Gzip));
        assert_eq!(n(Some("br"), &[Gzip]), Identity);
        assert_eq!(n(Some("br;q=1, gzip;q=0.1"), &[Gzip, Zstd]), c(Gzip));
        assert_eq!(n(Some("*"), &[Gzip]), c(Gzip));
        assert_eq!(n(Some("*"), &[]), Identity);
        assert_eq!(n(Some("br, identity;q=0"), &[Gzip]), NotAcceptable);
        assert_eq!(n(Some("identity;q=0"), &[]), NotAcceptable);
        assert_eq!(n(None, &[]), Identity);
    }

    #[test]
    fn several_field_lines_are_one_list() {
        let lines: [&[u8]; 2] = [b"gzip;q=0.5", b"br;q=0.9"];
        assert_eq!(negotiate_lines(lines, ALL), c(Br));
        let lines: [&[u8]; 2] = [b"identity;q=0", b""];
        assert_eq!(negotiate_lines(lines, ALL), NotAcceptable);
        let lines: [&[u8]; 2] = [b"", b""];
        assert_eq!(negotiate_lines(lines, ALL), Identity);
        assert_eq!(negotiate_lines(std::iter::empty(), ALL), Identity);
    }

    #[test]
    fn qvalues() {
        for (v, q) in [
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.123", Some(123)),
            ("1", Some(1000)),
            ("1.0", Some(1000)),
            ("1.000", Some(1000)),
            ("1.001", None),
            ("1.0000", None),
            ("0.1234", None),
            ("2", None),
            ("01", None),
            (".5", None),
            ("", None),
            ("0x1", None),
            ("+1", None),
        ] {
            assert_eq!(parse_qvalue(v.as_bytes()), q, "{v:?}");
        }
    }

    #[test]
    fn hostile_fields_are_harmless() {
        let many = vec!["deflate;q=0.5"; 50_000].join(", ") + ", gzip";
        assert_eq!(n(Some(&many), ALL), c(Gzip));
        let refusals = vec!["identity;q=0"; 50_000].join(",");
        assert_eq!(n(Some(&refusals), ALL), NotAcceptable);
        let junk = ";;;;===,,,,".repeat(20_000);
        assert_eq!(n(Some(&junk), ALL), Identity);
        let long_token = "a".repeat(200_000);
        assert_eq!(n(Some(&long_token), ALL), Identity);
        // Bytes that are not ASCII are no token.
        assert_eq!(negotiate(Some(b"gz\xffip, \xc3\xa9"), ALL), Identity);
    }

    #[test]
    fn dictionary_codings_when_named_and_available() {
        use DictCoding::{Dcb, Dcz};
        let d = |header: &str, dict: &[DictCoding]| {
            negotiate_with_dictionary([header.as_bytes()], ALL, dict)
        };
        let table: &[(&str, &[DictCoding], Negotiated)] = &[
            // Chromium's field.
            (
                "gzip, deflate, br, zstd, dcb, dcz",
                &[Dcb, Dcz],
                Negotiated::Dictionary(Dcb),
            ),
            (
                "gzip, deflate, br, zstd, dcb, dcz",
                &[Dcz],
                Negotiated::Dictionary(Dcz),
            ),
            ("gzip, deflate, br, zstd, dcb, dcz", &[], c(Br)),
            ("dcz, br", &[Dcb, Dcz], Negotiated::Dictionary(Dcz)),
            ("DCB", &[Dcb], Negotiated::Dictionary(Dcb)),
            // Weights.
            ("dcb;q=0.5, dcz", &[Dcb, Dcz], Negotiated::Dictionary(Dcz)),
            ("dcb;q=0.5, br", &[Dcb], c(Br)),
            ("dcb;q=0.5, br;q=0.5", &[Dcb], Negotiated::Dictionary(Dcb)),
            ("dcb;q=0, dcz;q=0, br", &[Dcb, Dcz], c(Br)),
            ("dcb, dcb;q=0", &[Dcb], Identity),
            ("dcb;q=0.5, identity", &[Dcb], Identity),
            ("dcb, identity;q=0", &[Dcb], Negotiated::Dictionary(Dcb)),
            // `*` does not stand for them; malformed members are ignored.
            ("*", &[Dcb, Dcz], c(Br)),
            ("dcb;q=2, gzip", &[Dcb], c(Gzip)),
            ("", &[Dcb], Identity),
        ];
        for (header, dict, expected) in table {
            assert_eq!(d(header, dict), *expected, "{header:?} {dict:?}");
        }
        assert_eq!(
            negotiate_with_dictionary(std::iter::empty(), ALL, &[Dcb, Dcz]),
            Identity
        );
    }

    #[test]
    fn tokens_round_trip() {
        for coding in Coding::ALL {
            assert_eq!(Coding::from_token(coding.token().as_bytes()), Some(coding));
        }
        assert_eq!(Coding::from_token(b"deflate"), None);
        assert_eq!(Coding::from_token(b"identity"), None);
        assert!(Br < Zstd && Zstd < Gzip, "the server's preference");
    }
}
