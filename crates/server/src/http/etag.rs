//! Entity tags (RFC 9110 §8.8.3): parsing the `If-Match` / `If-None-Match` lists and the
//! strong and weak comparison functions (§8.8.3.2).

/// One entity tag as received: `"opaque"` or `W/"opaque"` (`W/` is case-sensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityTag<'a> {
    pub weak: bool,
    /// The bytes between the quotes.
    pub opaque: &'a [u8],
}

impl<'a> EntityTag<'a> {
    /// Parses exactly one entity tag, with no surrounding whitespace.
    pub fn parse(value: &'a [u8]) -> Option<Self> {
        match parse_one(value)? {
            (tag, []) => Some(tag),
            _ => None,
        }
    }

    /// Strong comparison: both strong and the opaque parts equal, octet by octet.
    pub fn strong_eq(&self, other: &EntityTag<'_>) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// Weak comparison: the opaque parts equal, whatever the weakness.
    pub fn weak_eq(&self, other: &EntityTag<'_>) -> bool {
        self.opaque == other.opaque
    }
}

/// `etagc = %x21 / %x23-7E / obs-text`
fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

/// One entity tag at the start of `s`, and what follows it.
fn parse_one(s: &[u8]) -> Option<(EntityTag<'_>, &[u8])> {
    let (weak, s) = match s.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let s = s.strip_prefix(b"\"")?;
    let end = s.iter().position(|&b| !is_etagc(b))?;
    if s[end] != b'"' {
        return None;
    }
    Some((
        EntityTag {
            weak,
            opaque: &s[..end],
        },
        &s[end + 1..],
    ))
}

/// Which comparison a precondition uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `If-Match`, `If-Range` (§13.1.1, §13.1.5).
    Strong,
    /// `If-None-Match` (§13.1.2).
    Weak,
}

/// What an `If-Match` or `If-None-Match` field (all its lines together) says about the
/// current representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMatch {
    /// `*`: any current representation.
    Any,
    /// A listed tag matches the current one under the comparison.
    Match,
    /// A valid list, and no member matches.
    NoMatch,
    /// Not a valid `*` or entity-tag list; callers treat it as matching nothing.
    Invalid,
}

impl ListMatch {
    /// Whether the list selects the current representation (`*` or a match).
    pub fn selects(self) -> bool {
        matches!(self, ListMatch::Any | ListMatch::Match)
    }
}

/// Evaluates the lines of an `If-Match` / `If-None-Match` field (`1#entity-tag` or `*`,
/// RFC 9110 §13.1.1–2) against `current`. Empty list elements are skipped (§5.6.1.2); `*`
/// is valid only alone. Work is linear in the field's length.
pub fn match_list<'v>(
    lines: impl IntoIterator<Item = &'v [u8]>,
    current: &EntityTag<'_>,
    comparison: Comparison,
) -> ListMatch {
    let mut lines = lines.into_iter().peekable();
    let mut any_member = false;
    let mut matched = false;
    let mut star = false;
    while let Some(line) = lines.next() {
        if line.trim_ascii() == b"*" {
            if any_member || star || lines.peek().is_some() {
                return ListMatch::Invalid;
            }
            star = true;
            continue;
        }
        if star {
            return ListMatch::Invalid;
        }
        let mut rest = line;
        loop {
            rest = rest.trim_ascii_start();
            if let Some(after) = rest.strip_prefix(b",") {
                rest = after;
                continue;
            }
            if rest.is_empty() {
                break;
            }
            let Some((tag, after)) = parse_one(rest) else {
                return ListMatch::Invalid;
            };
            any_member = true;
            matched |= match comparison {
                Comparison::Strong => tag.strong_eq(current),
                Comparison::Weak => tag.weak_eq(current),
            };
            rest = after.trim_ascii_start();
            match rest.first() {
                None | Some(b',') => {}
                Some(_) => return ListMatch::Invalid,
            }
        }
    }
    if star {
        ListMatch::Any
    } else if !any_member {
        ListMatch::Invalid
    } else if matched {
        ListMatch::Match
    } else {
        ListMatch::NoMatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURRENT: EntityTag<'static> = EntityTag {
        weak: false,
        opaque: b"abc",
    };

    fn m(lines: &[&str], cmp: Comparison) -> ListMatch {
        match_list(lines.iter().map(|l| l.as_bytes()), &CURRENT, cmp)
    }

    #[test]
    fn parses_strong_and_weak_tags() {
        assert_eq!(
            EntityTag::parse(br#""abc""#),
            Some(EntityTag {
                weak: false,
                opaque: b"abc"
            })
        );
        assert_eq!(
            EntityTag::parse(br#"W/"abc""#),
            Some(EntityTag {
                weak: true,
                opaque: b"abc"
            })
        );
        assert_eq!(
            EntityTag::parse(br#""""#),
            Some(EntityTag {
                weak: false,
                opaque: b""
            })
        );
        assert_eq!(
            EntityTag::parse("\"\u{e9}\"".as_bytes()).map(|t| t.opaque.len()),
            Some(2)
        );
        for bad in [
            "abc",
            r#"w/"abc""#,
            r#""abc"#,
            r#""a b""#,
            r#""a"b""#,
            r#" "abc""#,
            r#""abc" "#,
            r#"W/ "abc""#,
            "\"a\tb\"",
            "\"a\u{7f}\"",
        ] {
            assert_eq!(EntityTag::parse(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn strong_and_weak_comparison_follow_the_rfc_table() {
        // RFC 9110 §8.8.3.2, the table of four pairs.
        let t = |s: &'static str| EntityTag::parse(s.as_bytes()).unwrap();
        let cases = [
            (r#"W/"1""#, r#"W/"1""#, false, true),
            (r#"W/"1""#, r#"W/"2""#, false, false),
            (r#"W/"1""#, r#""1""#, false, true),
            (r#""1""#, r#""1""#, true, true),
        ];
        for (a, b, strong, weak) in cases {
            assert_eq!(t(a).strong_eq(&t(b)), strong, "{a} {b}");
            assert_eq!(t(a).weak_eq(&t(b)), weak, "{a} {b}");
        }
    }

    #[test]
    fn lists_match_any_member() {
        use Comparison::*;
        use ListMatch::*;
        assert_eq!(m(&[r#""abc""#], Strong), Match);
        assert_eq!(m(&[r#""x", "abc""#], Strong), Match);
        assert_eq!(m(&[r#""x","abc""#], Strong), Match);
        assert_eq!(m(&[r#""x" , W/"y" ,"abc" "#], Weak), Match);
        assert_eq!(m(&[r#""x""#, r#""abc""#], Strong), Match);
        assert_eq!(m(&[r#", ,"abc",,"#], Strong), Match);
        assert_eq!(m(&[r#""x", "y""#], Strong), NoMatch);
        assert_eq!(m(&[r#"W/"abc""#], Strong), NoMatch);
        assert_eq!(m(&[r#"W/"abc""#], Weak), Match);
        assert_eq!(m(&[r#""ABC""#], Weak), NoMatch);
    }

    #[test]
    fn star_is_any_only_alone() {
        use Comparison::*;
        use ListMatch::*;
        assert_eq!(m(&["*"], Strong), Any);
        assert_eq!(m(&[" * "], Weak), Any);
        assert_eq!(m(&[r#"*, "abc""#], Weak), Invalid);
        assert_eq!(m(&[r#""abc", *"#], Weak), Invalid);
        assert_eq!(m(&["*", "*"], Weak), Invalid);
        assert_eq!(m(&["*", r#""x""#], Weak), Invalid);
        assert_eq!(m(&[r#""x""#, "*"], Weak), Invalid);
        assert!(Any.selects() && Match.selects() && !NoMatch.selects() && !Invalid.selects());
    }

    #[test]
    fn malformed_lists_are_invalid() {
        for bad in [
            "",
            " ",
            ",",
            "abc",
            r#""abc" "x""#,
            r#""abc";"x""#,
            r#""abc"x"#,
            r#"W/abc"#,
            "**",
        ] {
            assert_eq!(m(&[bad], Comparison::Weak), ListMatch::Invalid, "{bad:?}");
        }
        assert_eq!(m(&[], Comparison::Weak), ListMatch::Invalid);
    }

    #[test]
    fn long_lists_are_linear() {
        let long = vec![r#""x""#; 20_000].join(", ") + r#", "abc""#;
        assert_eq!(m(&[long.as_str()], Comparison::Strong), ListMatch::Match);
    }
}
