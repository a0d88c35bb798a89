//! Finds the URL-valued strings at given paths of a JSON document (a web app manifest's icons,
//! an import map's addresses), with the exact byte span of each value, so the build can rewrite
//! them without re-serializing (and so reformatting) the rest of the document.
//!
//! A deserializer gives values but not where they sit, hence this small strict JSON lexer and
//! parser. It keeps its own stack instead of recursing, so no nesting depth can exhaust the
//! thread's stack.

use std::ops::Range;

use crate::scan::text_ref::{locate, LineIndex, TextContext, TextRef};

/// The URL fields of a web app manifest.
pub const WEB_MANIFEST_PATHS: &[&str] = &[
    "icons[].src",
    "screenshots[].src",
    "shortcuts[].icons[].src",
];

/// The field of a source map naming the file it maps: a name, not a URL (ECMA-426), so the
/// build never reads it as a reference ([`crate::scan::Format::SourceMap`]); kept for the
/// scanner's tests and fuzz checks, and for callers that want to read it.
pub const SOURCE_MAP_PATHS: &[&str] = &["file"];

/// The document is not valid JSON (RFC 8259); `line` and `column` (1-based, in characters)
/// locate the first offending character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed json at line {line}, column {column}: {reason}")]
pub struct JsonError {
    pub line: u32,
    pub column: u32,
    pub reason: &'static str,
}

/// The string values in `source` at any of `paths`, in source order. A path is object keys
/// separated by `.` (`*` for any key), with `[]` after a key (or alone) standing for every element of an array:
/// `icons[].src` matches `{"icons": [{"src": "a.png"}, {"src": "b.png"}]}` twice. Values of
/// another type at a matching path are ignored, as are strings holding a lone surrogate escape
/// (no file can be named by them).
pub fn scan_json(source: &str, paths: &[&str]) -> Result<Vec<TextRef>, JsonError> {
    let patterns: Vec<Vec<Segment<'_>>> = paths.iter().map(|p| parse_path(p)).collect();
    let mut parser = JsonParser {
        source,
        bytes: source.as_bytes(),
        pos: 0,
        patterns,
        refs: Vec::new(),
    };
    if source.starts_with('\u{feff}') {
        parser.pos = '\u{feff}'.len_utf8();
    }
    parser.document().map_err(|(at, reason)| {
        let (line, column) = LineIndex::new(source).line_column(at);
        JsonError {
            line,
            column,
            reason,
        }
    })?;
    let mut refs = parser.refs;
    locate(source, &mut refs);
    Ok(refs)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'p> {
    Key(&'p str),
    /// `*`: any key of an object (an import map's specifiers).
    AnyKey,
    AnyIndex,
}

fn parse_path(path: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    for part in path.split('.') {
        let key = part.trim_end_matches("[]");
        if key == "*" {
            segments.push(Segment::AnyKey);
        } else if !key.is_empty() {
            segments.push(Segment::Key(key));
        }
        for _ in 0..(part.len() - key.len()) / 2 {
            segments.push(Segment::AnyIndex);
        }
    }
    segments
}

/// An open container; for an object, the key whose value is being parsed.
enum Frame {
    Object(Option<String>),
    Array,
}

/// What the parser expects next.
#[derive(Clone, Copy)]
enum Expect {
    Value,
    /// Just after `[`: a value or `]`.
    ValueOrClose,
    /// Just after `{`: a key or `}`.
    KeyOrClose,
    Key,
    /// After a complete value: `,` or the closing bracket, or the end of the document.
    AfterValue,
}

type Failure = (usize, &'static str);

struct JsonParser<'s, 'p> {
    source: &'s str,
    bytes: &'s [u8],
    pos: usize,
    patterns: Vec<Vec<Segment<'p>>>,
    refs: Vec<TextRef>,
}

impl JsonParser<'_, '_> {
    fn document(&mut self) -> Result<(), Failure> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut expect = Expect::Value;
        loop {
            self.skip_whitespace();
            let Some(&b) = self.bytes.get(self.pos) else {
                return match (expect, stack.is_empty()) {
                    (Expect::AfterValue, true) => Ok(()),
                    _ => Err((self.pos, "unexpected end of input")),
                };
            };
            expect = match expect {
                Expect::ValueOrClose if b == b']' => self.close(&mut stack),
                Expect::KeyOrClose if b == b'}' => self.close(&mut stack),
                Expect::Value | Expect::ValueOrClose => match b {
                    b'{' => {
                        self.pos += 1;
                        stack.push(Frame::Object(None));
                        Expect::KeyOrClose
                    }
                    b'[' => {
                        self.pos += 1;
                        stack.push(Frame::Array);
                        Expect::ValueOrClose
                    }
                    b'"' => {
                        let content = self.string()?;
                        let value = if self.matches(&stack) {
                            self.decode(content.clone())
                        } else {
                            None
                        };
                        if let Some(value) = value {
                            let context = TextContext::JsString('"');
                            self.refs.push(TextRef {
                                span: content,
                                value,
                                context,
                                line: 0,
                                column: 0,
                            });
                        }
                        Expect::AfterValue
                    }
                    b't' => self.literal("true")?,
                    b'f' => self.literal("false")?,
                    b'n' => self.literal("null")?,
                    b'-' | b'0'..=b'9' => self.number()?,
                    _ => return Err((self.pos, "expected a value")),
                },
                Expect::Key | Expect::KeyOrClose => {
                    if b != b'"' {
                        return Err((self.pos, "expected a string key"));
                    }
                    let content = self.string()?;
                    let key = self.decode(content);
                    if let Some(Frame::Object(current)) = stack.last_mut() {
                        *current = key;
                    }
                    self.skip_whitespace();
                    if self.bytes.get(self.pos) != Some(&b':') {
                        return Err((self.pos, "expected ':' after an object key"));
                    }
                    self.pos += 1;
                    Expect::Value
                }
                Expect::AfterValue => match (stack.last(), b) {
                    (None, _) => {
                        return Err((self.pos, "unexpected characters after the document"))
                    }
                    (Some(Frame::Object(_)), b',') => {
                        self.pos += 1;
                        Expect::Key
                    }
                    (Some(Frame::Array), b',') => {
                        self.pos += 1;
                        Expect::Value
                    }
                    (Some(Frame::Object(_)), b'}') | (Some(Frame::Array), b']') => {
                        self.close(&mut stack)
                    }
                    (Some(Frame::Object(_)), _) => return Err((self.pos, "expected ',' or '}'")),
                    (Some(Frame::Array), _) => return Err((self.pos, "expected ',' or ']'")),
                },
            };
        }
    }

    fn close(&mut self, stack: &mut Vec<Frame>) -> Expect {
        self.pos += 1;
        stack.pop();
        Expect::AfterValue
    }

    /// Whether the value being parsed sits at one of the patterns' paths.
    fn matches(&self, stack: &[Frame]) -> bool {
        self.patterns.iter().any(|pattern| {
            pattern.len() == stack.len()
                && pattern
                    .iter()
                    .zip(stack)
                    .all(|(segment, frame)| match (segment, frame) {
                        (Segment::Key(want), Frame::Object(Some(key))) => want == key,
                        (Segment::AnyIndex, Frame::Array) => true,
                        (Segment::AnyKey, Frame::Object(Some(_))) => true,
                        _ => false,
                    })
        })
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &'static str) -> Result<Expect, Failure> {
        if !self.bytes[self.pos..].starts_with(word.as_bytes()) {
            return Err((self.pos, "expected a value"));
        }
        self.pos += word.len();
        Ok(Expect::AfterValue)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<Expect, Failure> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.bytes.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - from
        };
        if self.bytes[self.pos] == b'-' {
            self.pos += 1;
        }
        let int_start = self.pos;
        let int_digits = digits(self);
        if int_digits == 0 || (int_digits > 1 && self.bytes[int_start] == b'0') {
            return Err((start, "invalid number"));
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err((start, "invalid number"));
            }
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err((start, "invalid number"));
            }
        }
        Ok(Expect::AfterValue)
    }

    /// Lexes the string at the current `"`, checking its escapes, and returns the range of its
    /// content (without quotes).
    fn string(&mut self) -> Result<Range<usize>, Failure> {
        let start = self.pos + 1;
        let mut i = start;
        loop {
            match self.bytes.get(i) {
                None => return Err((self.pos, "unterminated string")),
                Some(b'"') => break,
                Some(b'\\') => i = self.escape(i)?.1,
                Some(0..=0x1f) => return Err((i, "control character in string")),
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        Ok(start..i)
    }

    /// The value of string content already checked by [`Self::string`], or `None` if it holds
    /// a lone surrogate.
    fn decode(&self, content: Range<usize>) -> Option<String> {
        let raw = &self.source[content.clone()];
        if !raw.contains('\\') {
            return Some(raw.to_owned());
        }
        let mut value = String::with_capacity(raw.len());
        let mut i = content.start;
        while i < content.end {
            let plain_end = self.source[i..content.end]
                .find('\\')
                .map_or(content.end, |at| i + at);
            value.push_str(&self.source[i..plain_end]);
            if plain_end == content.end {
                break;
            }
            let (c, next) = self.escape(plain_end).ok()?;
            value.push(c?);
            i = next;
        }
        Some(value)
    }

    /// Decodes the escape at `at` (a `\`). Returns the character (`None` for a lone
    /// surrogate) and the offset after the escape.
    fn escape(&self, at: usize) -> Result<(Option<char>, usize), Failure> {
        let simple = match self.bytes.get(at + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let unit = self.hex4(at + 2)?;
                if !(0xd800..0xdc00).contains(&unit) {
                    return Ok((char::from_u32(unit), at + 6));
                }
                // A high surrogate makes a character only with a `\u` low surrogate after it.
                if self.bytes.get(at + 6..at + 8) == Some(b"\\u") {
                    let low = self.hex4(at + 8)?;
                    if (0xdc00..0xe000).contains(&low) {
                        let c = char::from_u32(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
                        return Ok((c, at + 12));
                    }
                }
                return Ok((None, at + 6));
            }
            Some(_) => return Err((at, "invalid escape in string")),
            None => return Err((at, "unterminated string")),
        };
        Ok((Some(simple), at + 2))
    }

    fn hex4(&self, at: usize) -> Result<u32, Failure> {
        let digits = self
            .bytes
            .get(at..at + 4)
            .ok_or((at - 2, "invalid escape in string"))?;
        digits.iter().try_fold(0u32, |value, &d| {
            let digit = char::from(d)
                .to_digit(16)
                .ok_or((at - 2, "invalid escape in string"))?;
            Ok(value * 16 + digit)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::text_ref::splice;
    use crate::scan::text_ref::testkit;

    /// The scan of `source`, its invariants checked: each span is a whole JSON string's
    /// contents.
    fn scan_checked(source: &str, paths: &[&str]) -> Vec<TextRef> {
        let refs = testkit::check(source, scan_json(source, paths).unwrap());
        for r in &refs {
            assert_eq!(&source[r.span.start - 1..r.span.start], "\"", "{r:?}");
            assert_eq!(&source[r.span.end..r.span.end + 1], "\"", "{r:?}");
            assert_eq!(r.context, TextContext::JsString('"'));
        }
        refs
    }

    fn values(source: &str, paths: &[&str]) -> Vec<String> {
        scan_checked(source, paths)
            .into_iter()
            .map(|r| r.value)
            .collect()
    }

    fn error(source: &str) -> JsonError {
        scan_json(source, WEB_MANIFEST_PATHS).unwrap_err()
    }

    const MANIFEST: &str = r#"{
  "name": "Example",
  "start_url": "/index.html",
  "icons": [
    { "src": "icons/192.png", "sizes": "192x192", "type": "image/png" },
    { "src": "icons/512.png", "sizes": "512x512" }
  ],
  "screenshots": [{ "src": "shots/wide.png", "form_factor": "wide" }],
  "shortcuts": [
    { "name": "Today", "url": "/today", "icons": [{ "src": "icons/today.png" }] },
    { "name": "None" }
  ],
  "related_applications": [{ "platform": "web", "url": "https://example.com/app.json", "src": "x" }],
  "src": "top-level.png"
}"#;

    #[test]
    fn web_manifest_icons_screenshots_and_shortcut_icons() {
        let refs = scan_checked(MANIFEST, WEB_MANIFEST_PATHS);
        assert_eq!(
            refs.iter().map(|r| r.value.as_str()).collect::<Vec<_>>(),
            [
                "icons/192.png",
                "icons/512.png",
                "shots/wide.png",
                "icons/today.png"
            ]
        );
        assert_eq!((refs[0].line, refs[0].column), (5, 15));
        assert_eq!(&MANIFEST[refs[3].span.clone()], "icons/today.png");
    }

    #[test]
    fn source_map_file_only() {
        let map = r#"{"version":3,"file":"app.js","sources":["../src/app.ts"],"sourcesContent":["{\"file\": \"no.js\"}"],"names":[],"mappings":"AAAA"}"#;
        assert_eq!(values(map, SOURCE_MAP_PATHS), ["app.js"]);
        assert_eq!(values(map, &["sources[]"]), ["../src/app.ts"]);
        assert_eq!(
            values(map, &["sources[]", "file"]),
            ["app.js", "../src/app.ts"]
        );
    }

    #[test]
    fn matching_needs_the_exact_shape() {
        let src = r#"{
  "nested": { "icons": [{ "src": "no1.png" }] },
  "icons": { "src": "no2.png" },
  "screenshots": [[{ "src": "no3.png" }], { "src": 42 }, { "src": null }, { "src": ["no4.png"] }],
  "icons": [{ "SRC": "no5.png", "src2": "no6.png" }, "no7.png"],
  "file": "no8.js"
}"#;
        assert_eq!(values(src, WEB_MANIFEST_PATHS), Vec::<String>::new());
    }

    #[test]
    fn path_patterns() {
        assert_eq!(
            parse_path("shortcuts[].icons[].src"),
            [
                Segment::Key("shortcuts"),
                Segment::AnyIndex,
                Segment::Key("icons"),
                Segment::AnyIndex,
                Segment::Key("src")
            ]
        );
        assert_eq!(
            parse_path("[].a[][]"),
            [
                Segment::AnyIndex,
                Segment::Key("a"),
                Segment::AnyIndex,
                Segment::AnyIndex
            ]
        );
        assert_eq!(
            values(r#"[["a.png", 1], ["b.png"]]"#, &["[][]"]),
            ["a.png", "b.png"]
        );
        assert_eq!(values(r#"{"a": "x"}"#, &[]), Vec::<String>::new());
    }

    #[test]
    fn escapes_are_resolved_in_keys_and_values() {
        let src = r#"{"icons": [{"\u0073rc": "a\/b\u0020c\"d\\e.png"}, {"src": "\uD83D\uDE00.png"}, {"src": "\uD83D.png"}]}"#;
        let refs = scan_checked(src, WEB_MANIFEST_PATHS);
        assert_eq!(
            refs.iter().map(|r| r.value.as_str()).collect::<Vec<_>>(),
            ["a/b c\"d\\e.png", "\u{1F600}.png"]
        );
        assert_eq!(&src[refs[0].span.clone()], r#"a\/b\u0020c\"d\\e.png"#);
    }

    #[test]
    fn every_json_value_type_is_accepted() {
        let src = "\u{feff} {\"a\": [true, false, null, 0, -1, 1.5, 2e10, -3.25E-2, {}, [], \"\"],\n\t\"file\": \"x.js\" } \r\n";
        assert_eq!(values(src, SOURCE_MAP_PATHS), ["x.js"]);
    }

    #[test]
    fn malformed_json_is_an_error_with_its_position() {
        let cases: &[(&str, u32, u32, &str)] = &[
            ("", 1, 1, "unexpected end of input"),
            ("{\"icons\": [1, 2,]}", 1, 17, "expected a value"),
            ("{\"a\": 1,}", 1, 9, "expected a string key"),
            ("{\"a\" 1}", 1, 6, "expected ':' after an object key"),
            ("{\"a\": 1 \"b\": 2}", 1, 9, "expected ',' or '}'"),
            ("[1 2]", 1, 4, "expected ',' or ']'"),
            (
                "{\n  \"a\": \"unterminated\n}",
                2,
                21,
                "control character in string",
            ),
            ("{\"a\": \"x", 1, 7, "unterminated string"),
            ("{\"a\": \"\\x\"}", 1, 8, "invalid escape in string"),
            ("{\"a\": \"\\u12g4\"}", 1, 8, "invalid escape in string"),
            ("{\"a\": 01}", 1, 7, "invalid number"),
            ("{\"a\": -}", 1, 7, "invalid number"),
            ("{\"a\": 1.}", 1, 7, "invalid number"),
            ("{\"a\": 1e}", 1, 7, "invalid number"),
            ("{\"a\": tru}", 1, 7, "expected a value"),
            ("{} {}", 1, 4, "unexpected characters after the document"),
            ("{\"é\": \u{0}}", 1, 7, "expected a value"),
            ("[[[", 1, 4, "unexpected end of input"),
            ("'a'", 1, 1, "expected a value"),
        ];
        for &(src, line, column, reason) in cases {
            assert_eq!(
                error(src),
                JsonError {
                    line,
                    column,
                    reason
                },
                "{src:?}"
            );
        }
        assert_eq!(
            error("[1,]").to_string(),
            "malformed json at line 1, column 4: expected a value"
        );
    }

    #[test]
    fn splicing_every_reference_with_its_own_value_reproduces_the_source() {
        let refs = scan_checked(MANIFEST, WEB_MANIFEST_PATHS);
        assert_eq!(refs.len(), 4);
        testkit::assert_splices_back(MANIFEST, &refs);
    }

    #[test]
    fn rewriting_produces_valid_json_with_only_the_values_changed() {
        let src = r#"{"file": "app.js", "sources": ["app.js"], "x": {"file": "app.js"}}"#;
        let refs = scan_checked(src, SOURCE_MAP_PATHS);
        let out = splice(src, vec![(&refs[0], "app.1a2b.js".to_owned())]);
        assert_eq!(
            out,
            r#"{"file": "app.1a2b.js", "sources": ["app.js"], "x": {"file": "app.js"}}"#
        );
        let tricky = "dir/\"quoted\"\\back\nline.js";
        let out = splice(src, vec![(&refs[0], tricky.to_owned())]);
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["file"], tricky);
        testkit::assert_reads_back(src, &refs, &[tricky], |out| values(out, SOURCE_MAP_PATHS));
    }

    #[test]
    fn deep_nesting_is_fine() {
        let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
        assert_eq!(values(&deep, &["[]"]), Vec::<String>::new());
        assert_eq!(
            error(&"[".repeat(200_000)).reason,
            "unexpected end of input"
        );
        let src = format!(
            "{{\"file\": \"x.js\", \"n\": {}1{}}}",
            "{\"a\":".repeat(10_000),
            "}".repeat(10_000)
        );
        assert_eq!(values(&src, SOURCE_MAP_PATHS), ["x.js"]);
    }

    #[test]
    fn garbage_never_panics() {
        const PIECES: &[&str] = &[
            "{",
            "}",
            "[",
            "]",
            ":",
            ",",
            "\"",
            "\"src\"",
            "\"icons\"",
            "\\",
            "\\u",
            "\\uD83D",
            "12",
            "-",
            ".",
            "e",
            "true",
            "nul",
            " ",
            "\n",
            "é",
            "\u{0}",
            "\u{1F600}",
            "\"a.png\"",
        ];
        // A differential check: the scanner accepts exactly what serde_json accepts.
        testkit::garbage(PIECES, 0x1234_5678_9abc_def1, 5000, 30, |src| {
            match scan_json(src, WEB_MANIFEST_PATHS) {
                Ok(refs) => {
                    // serde_json also rejects lone surrogates, which RFC 8259 allows.
                    assert!(
                        serde_json::from_str::<serde_json::Value>(src).is_ok()
                            || src.contains("\\uD83D"),
                        "accepted {src:?}"
                    );
                    let refs = testkit::check(src, refs);
                    assert!(refs.iter().all(|r| r.span.end < src.len()), "{refs:?}");
                }
                Err(e) => {
                    assert!(
                        serde_json::from_str::<serde_json::Value>(src).is_err(),
                        "rejected {src:?}: {e}"
                    );
                    assert!(e.line >= 1 && e.column >= 1);
                }
            }
        });
    }

    #[test]
    fn a_large_source_map_is_scanned_whole() {
        let mappings = "AAAA,SAAS;".repeat(100_000);
        let src = format!(
            r#"{{"version":3,"file":"big.js","sources":["a.js"],"names":[],"mappings":"{mappings}"}}"#
        );
        assert_eq!(values(&src, SOURCE_MAP_PATHS), ["big.js"]);
    }
}
