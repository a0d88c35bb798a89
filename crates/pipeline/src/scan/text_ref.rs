//! References found in text formats (CSS, JS, source-map comments): where each one sits in
//! the source, its value, and how a replacement is spliced back without touching any other byte.

use std::ops::Range;

/// How the value of a reference is delimited in the source, which decides how a
/// replacement value must be escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextContext {
    /// Inside a CSS string (`url("x")`, `@import 'x'`), delimited by this quote.
    CssString(char),
    /// An unquoted CSS `url(x)`.
    CssUnquotedUrl,
    /// Inside a JS string literal delimited by this quote (`'`, `"` or a template's `` ` ``
    /// without substitutions).
    JsString(char),
    /// The value of a `sourceMappingURL=` comment, which ends at whitespace or `*/`.
    Comment,
}

impl TextContext {
    /// Every context, each at the index that is its [`TextContext::code`].
    const ALL: [TextContext; 7] = [
        TextContext::CssUnquotedUrl,
        TextContext::Comment,
        TextContext::CssString('"'),
        TextContext::CssString('\''),
        TextContext::JsString('"'),
        TextContext::JsString('\''),
        TextContext::JsString('`'),
    ];

    /// A one-byte code for the scan cache; None for a quote no scanner reports.
    pub fn code(self) -> Option<u8> {
        Self::ALL.iter().position(|&c| c == self).map(|i| i as u8)
    }

    /// The context of a [`TextContext::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }
}

/// A reference found in a text file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRef {
    /// Byte range of the value in the source, without quotes or `url(`/`)`.
    pub span: Range<usize>,
    /// The value with the language's escapes resolved (CSS `\` escapes, JS string escapes),
    /// still percent-encoded as a URL.
    pub value: String,
    /// How the value is delimited.
    pub context: TextContext,
    /// 1-based line and column (in characters) of the start of the span.
    pub line: u32,
    pub column: u32,
}

/// The range, within a comment's text (what follows `//` or `/*`, without `*/`), of a
/// `# sourceMappingURL=<url>` directive's value (`@` is the legacy marker). As browsers do, the
/// directive must start the comment and nothing but whitespace may follow the URL.
pub fn source_mapping_url(body: &str) -> Option<Range<usize>> {
    let rest = body.strip_prefix(['#', '@'])?;
    let after_space = rest.trim_start();
    let value = after_space.strip_prefix("sourceMappingURL=")?;
    let start = body.len() - value.len();
    let len = value.find(char::is_whitespace).unwrap_or(value.len());
    if len == 0 || !value[len..].trim_start().is_empty() {
        return None;
    }
    Some(start..start + len)
}

/// Rewrites `source`, replacing the span of each `(reference, new value)` pair with the new
/// value escaped for its context. Every other byte is kept. Spans must not overlap.
pub fn splice(source: &str, mut replacements: Vec<(&TextRef, String)>) -> String {
    replacements.sort_by_key(|(r, _)| r.span.start);
    let mut out = String::with_capacity(source.len() + replacements.len() * 16);
    let mut at = 0;
    for (reference, value) in replacements {
        out.push_str(&source[at..reference.span.start]);
        out.push_str(&escape(&value, reference.context));
        at = reference.span.end;
    }
    out.push_str(&source[at..]);
    out
}

/// Escapes a URL value so that it reads back as itself in the given context.
pub fn escape(value: &str, context: TextContext) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match context {
            // CSS reads a raw CR, LF or FF as a newline, which ends a string: escape every
            // control character.
            TextContext::CssString(q) if c == q || c == '\\' || c.is_control() => {
                out.push_str(&format!("\\{:x} ", c as u32));
            }
            TextContext::CssUnquotedUrl
                if c.is_whitespace()
                    || matches!(c, '"' | '\'' | '(' | ')' | '\\')
                    || c.is_control() =>
            {
                out.push_str(&format!("\\{:x} ", c as u32));
            }
            TextContext::JsString(q) if c == q || c == '\\' || (q == '`' && c == '$') => {
                out.push('\\');
                out.push(c);
            }
            // JSON (which shares this context) forbids raw U+0000..U+001F in strings; these
            // escapes mean the same in JS.
            TextContext::JsString(_) if c == '\n' => out.push_str("\\n"),
            TextContext::JsString(_) if c == '\r' => out.push_str("\\r"),
            TextContext::JsString(_) if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            TextContext::Comment if c.is_whitespace() => out.push_str("%20"),
            _ => out.push(c),
        }
    }
    out
}

/// Maps byte offsets to 1-based (line, column in characters).
#[derive(Debug)]
pub struct LineIndex<'a> {
    source: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Self {
            source,
            line_starts,
        }
    }

    pub fn line_column(&self, offset: usize) -> (u32, u32) {
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let end = offset.min(self.source.len());
        let column = self
            .source
            .get(start..end)
            .map_or(end - start, |s| s.chars().count());
        (line as u32 + 1, column as u32 + 1)
    }
}

/// Fills in `line` and `column` of every reference, in one pass over `source` however many
/// references share a line (minified files put thousands on one), with the same numbering as
/// [`LineIndex`]. Sorts `refs` by span start.
pub fn locate(source: &str, refs: &mut [TextRef]) {
    refs.sort_by_key(|r| r.span.start);
    let (mut at, mut line, mut column) = (0usize, 1u32, 1u32);
    for r in refs.iter_mut() {
        let target = r.span.start.min(source.len());
        if let Some(skipped) = source.get(at..target) {
            for c in skipped.chars() {
                if c == '\n' {
                    line += 1;
                    column = 1;
                } else {
                    column += 1;
                }
            }
            at = target;
        }
        r.line = line;
        r.column = column;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_ref(span: Range<usize>, context: TextContext) -> TextRef {
        TextRef {
            span,
            value: String::new(),
            context,
            line: 1,
            column: 1,
        }
    }

    #[test]
    fn splice_replaces_only_the_spans() {
        let src = "a { background: url(x.png) } b { src: url('y.woff') }";
        let r1 = text_ref(20..25, TextContext::CssUnquotedUrl);
        let r2 = text_ref(43..49, TextContext::CssString('\''));
        let out = splice(src, vec![(&r2, "y.F.woff".into()), (&r1, "x.F.png".into())]);
        assert_eq!(
            out,
            "a { background: url(x.F.png) } b { src: url('y.F.woff') }"
        );
    }

    #[test]
    fn control_characters_are_escaped_in_strings() {
        assert_eq!(
            escape("a\rb\u{c}c.png", TextContext::CssString('"')),
            "a\\d b\\c c.png"
        );
        assert_eq!(
            escape("a\tb\nc\u{1}.png", TextContext::JsString('"')),
            "a\\u0009b\\nc\\u0001.png"
        );
        let json = format!(
            "{{\"src\":\"{}\"}}",
            escape("a\tb.png", TextContext::JsString('"'))
        );
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["src"], "a\tb.png");
    }

    #[test]
    fn escapes_per_context() {
        assert_eq!(
            escape("a b(1).png", TextContext::CssUnquotedUrl),
            "a\\20 b\\28 1\\29 .png"
        );
        assert_eq!(
            escape("it's.png", TextContext::CssString('\'')),
            "it\\27 s.png"
        );
        assert_eq!(escape("it's.png", TextContext::CssString('"')), "it's.png");
        assert_eq!(escape("a'b.js", TextContext::JsString('\'')), "a\\'b.js");
        assert_eq!(escape("${x}.js", TextContext::JsString('`')), "\\${x}.js");
    }

    #[test]
    fn line_columns_count_characters() {
        let idx = LineIndex::new("ab\ncdé f\n");
        assert_eq!(idx.line_column(0), (1, 1));
        assert_eq!(idx.line_column(3), (2, 1));
        assert_eq!(idx.line_column(8), (2, 5));
    }

    #[test]
    fn locate_agrees_with_line_index() {
        let src = "ab\ncdé f\n\nxyz";
        let idx = LineIndex::new(src);
        let mut refs: Vec<TextRef> = [13, 0, 8, 3, 11]
            .iter()
            .map(|&at| text_ref(at..at, TextContext::Comment))
            .collect();
        locate(src, &mut refs);
        for r in &refs {
            assert_eq!(
                (r.line, r.column),
                idx.line_column(r.span.start),
                "at {}",
                r.span.start
            );
        }
        assert_eq!(
            refs.iter().map(|r| r.span.start).collect::<Vec<_>>(),
            [0, 3, 8, 11, 13]
        );
    }
}

/// The scanners' test kit, written once for the CSS, JS and JSON scanners' tests: the
/// invariants every scan keeps, the splice round trips, and a generator of garbage built
/// from a format's pieces.
#[cfg(test)]
pub(crate) mod testkit {
    use super::{splice, LineIndex, TextRef};

    /// Asserts what every scan of `source` keeps (spans in bounds, on character
    /// boundaries, sorted and disjoint; each line and column the one [`LineIndex`] gives)
    /// and returns the references.
    #[track_caller]
    pub(crate) fn check(source: &str, refs: Vec<TextRef>) -> Vec<TextRef> {
        let index = LineIndex::new(source);
        let mut previous_end = 0;
        for r in &refs {
            assert!(
                r.span.start >= previous_end && r.span.end <= source.len(),
                "{r:?} in {source:?}"
            );
            assert!(
                source.is_char_boundary(r.span.start) && source.is_char_boundary(r.span.end),
                "{r:?} splits a character in {source:?}"
            );
            assert_eq!(
                (r.line, r.column),
                index.line_column(r.span.start),
                "{r:?} in {source:?}"
            );
            previous_end = r.span.end;
        }
        refs
    }

    /// The text of `r`'s span, escapes and all.
    pub(crate) fn raw<'a>(source: &'a str, r: &TextRef) -> &'a str {
        &source[r.span.clone()]
    }

    /// Splicing every reference back, with its own value or with its raw text, gives the
    /// source byte for byte.
    #[track_caller]
    pub(crate) fn assert_splices_back(source: &str, refs: &[TextRef]) {
        let same = refs.iter().map(|r| (r, r.value.clone())).collect();
        assert_eq!(splice(source, same), source, "values spliced back");
        let raws = refs
            .iter()
            .map(|r| (r, raw(source, r).to_owned()))
            .collect();
        assert_eq!(splice(source, raws), source, "raw texts spliced back");
    }

    /// Splicing `new` values (needing escapes in their contexts) over `refs` gives a text
    /// whose `values` are exactly `new`.
    #[track_caller]
    pub(crate) fn assert_reads_back(
        source: &str,
        refs: &[TextRef],
        new: &[&str],
        values: impl Fn(&str) -> Vec<String>,
    ) {
        assert_eq!(refs.len(), new.len());
        let replacements = refs.iter().zip(new).map(|(r, v)| (r, (*v).to_owned()));
        let out = splice(source, replacements.collect());
        assert_eq!(values(&out), new, "in {out:?}");
    }

    /// Calls `check` on `rounds` texts, each up to `max_pieces` of `pieces` picked by a
    /// xorshift generator seeded with `seed`: the same texts on every run.
    pub(crate) fn garbage(
        pieces: &[&str],
        seed: u64,
        rounds: usize,
        max_pieces: u64,
        mut check: impl FnMut(&str),
    ) {
        let mut state = seed;
        for _ in 0..rounds {
            let mut text = String::new();
            for _ in 0..(state % max_pieces) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            check(&text);
        }
    }
}
