//! Finds the module and asset references in JavaScript source (ES module imports and re-exports,
//! dynamic `import()`, `new URL(…, import.meta.url)` and `sourceMappingURL` comments), with the
//! exact byte span of each value, so the build can rewrite them without touching any other byte.
//!
//! A regular expression over the text cannot tell code from look-alike text in strings,
//! comments, template literals or regex literals, so this is a small lexer: it knows JS lexical
//! structure (including the regex-versus-division ambiguity) but no grammar beyond the handful
//! of token sequences it looks for. It never recurses, so no input can exhaust the stack, and it
//! makes one pass, so time is linear in the input.

use std::iter::Peekable;
use std::str::Chars;

use crate::scan::text_ref::{locate, source_mapping_url, TextContext, TextRef};

/// Every reference in `source`, in source order: static `import`/`export … from` specifiers and
/// string-literal `import()` arguments that are relative (`./`, `../`) or root-relative (`/`);
/// any string in `new URL("…", import.meta.url)`; and `sourceMappingURL` comments. Bare
/// specifiers (`"react"`) are packages, not files, and are never reported.
pub fn scan_js(source: &str) -> Vec<TextRef> {
    let mut lexer = Lexer::new(source);
    let mut recognizer = Recognizer {
        source,
        state: State::Idle,
        refs: Vec::new(),
    };
    while let Some(token) = lexer.next_token() {
        recognizer.feed(token);
    }
    let mut refs = recognizer.refs;
    refs.append(&mut lexer.comment_refs);
    locate(source, &mut refs);
    refs
}

/// A string or template literal: byte range including its delimiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Literal {
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'s> {
    /// An identifier or keyword; `property` when it follows `.` (`obj.import`, `import.meta`),
    /// where it can never be a keyword.
    Name { text: &'s str, property: bool },
    /// A terminated `'…'` or `"…"` string literal.
    Str(Literal),
    /// A terminated template literal without substitutions.
    Template(Literal),
    /// A one-byte punctuator (multi-byte operators arrive as several).
    Punct(u8),
    /// Anything else the recognizer never needs to see inside: numbers, regexes, template
    /// pieces around substitutions, `...`, `++`, private names, unterminated literals.
    Other,
}

/// What an open `{` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Brace {
    Block,
    Object,
    /// A template literal's `${`, whose `}` resumes the template.
    Substitution,
}

/// Keywords after which an expression, and so a regex literal, may start.
const BEFORE_EXPRESSION: &[&str] = &[
    "return",
    "typeof",
    "instanceof",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "case",
    "do",
    "else",
    "yield",
    "await",
    "extends",
];

struct Lexer<'s> {
    source: &'s str,
    bytes: &'s [u8],
    pos: usize,
    /// Whether a `/` here starts a regex literal rather than a division, decided from the
    /// previous significant token.
    regex_allowed: bool,
    /// The previous token was `.`, so a name here is a property.
    after_dot: bool,
    /// The previous token was `if`, `while`, `for` or `with`, whose `(…)` is followed by a
    /// statement (where `/` starts a regex) rather than by an operator.
    after_condition_keyword: bool,
    /// Whether a `{` here opens a block (after `)`, `;`, `else`, `=>`…) rather than an object
    /// literal (after `=`, `(`, `,`, `return`…): after a block's `}` a statement starts, where
    /// `/` begins a regex, while after an object's `}` it divides.
    block_may_start: bool,
    braces: Vec<Brace>,
    /// One entry per open `(`: true when it follows a condition keyword.
    parens: Vec<bool>,
    comment_refs: Vec<TextRef>,
}

impl<'s> Lexer<'s> {
    fn new(source: &'s str) -> Self {
        let mut lexer = Lexer {
            source,
            bytes: source.as_bytes(),
            pos: 0,
            regex_allowed: true,
            after_dot: false,
            after_condition_keyword: false,
            block_may_start: true,
            braces: Vec::new(),
            parens: Vec::new(),
            comment_refs: Vec::new(),
        };
        if source.starts_with("#!") {
            lexer.pos = lexer.line_end(2);
        }
        lexer
    }

    fn next_token(&mut self) -> Option<Token<'s>> {
        self.skip_trivia();
        let start = self.pos;
        let b = *self.bytes.get(start)?;
        let next = self.bytes.get(start + 1).copied();
        let mut regex_allowed = true;
        let mut after_dot = false;
        let mut after_condition_keyword = false;
        let mut block_may_start = false;
        let token = match b {
            b'\'' | b'"' => {
                regex_allowed = false;
                self.string(start, b)
            }
            b'`' => {
                let (token, opened_substitution) = self.template(start);
                regex_allowed = opened_substitution;
                token
            }
            b'}' if self.braces.last() == Some(&Brace::Substitution) => {
                self.braces.pop();
                let (_, opened_substitution) = self.template(start);
                regex_allowed = opened_substitution;
                Token::Other
            }
            b'{' => {
                self.braces.push(if self.block_may_start {
                    Brace::Block
                } else {
                    Brace::Object
                });
                block_may_start = true;
                self.pos += 1;
                Token::Punct(b)
            }
            b'}' => {
                let block = self.braces.pop() != Some(Brace::Object);
                regex_allowed = block;
                block_may_start = block;
                self.pos += 1;
                Token::Punct(b)
            }
            b'(' => {
                self.parens.push(self.after_condition_keyword);
                self.pos += 1;
                Token::Punct(b)
            }
            b')' => {
                regex_allowed = self.parens.pop().unwrap_or(false);
                block_may_start = true;
                self.pos += 1;
                Token::Punct(b)
            }
            b']' => {
                regex_allowed = false;
                self.pos += 1;
                Token::Punct(b)
            }
            b'/' if self.regex_allowed && self.regex(start) => {
                regex_allowed = false;
                Token::Other
            }
            b'0'..=b'9' => {
                regex_allowed = false;
                self.number(start)
            }
            b'.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                regex_allowed = false;
                self.number(start)
            }
            b'.' if self.bytes[start..].starts_with(b"...") => {
                self.pos += 3;
                Token::Other
            }
            b'.' => {
                after_dot = true;
                self.pos += 1;
                Token::Punct(b)
            }
            b'+' | b'-' if next == Some(b) => {
                // Postfix `a++ / 2` is far likelier than a regex after a prefix `++`.
                regex_allowed = false;
                self.pos += 2;
                Token::Other
            }
            b'#' if next.is_some_and(|n| is_name_byte(n) && !n.is_ascii_digit()) => {
                regex_allowed = false;
                self.pos = self.name_end(start + 1);
                Token::Other
            }
            _ if b.is_ascii() && !is_name_byte(b) && b != b'\\' => {
                // `;` ends a statement; `>` is likeliest the end of an arrow `=>`.
                block_may_start = matches!(b, b';' | b'>');
                self.pos += 1;
                Token::Punct(b)
            }
            _ => {
                let end = self.name_end(start);
                // Never stall: a character that is not a name part still makes progress.
                self.pos = if end > start {
                    end
                } else {
                    start
                        + self.source[start..]
                            .chars()
                            .next()
                            .map_or(1, char::len_utf8)
                };
                let text = &self.source[start..self.pos];
                let property = self.after_dot;
                let keyword = !property && !text.contains('\\');
                regex_allowed = keyword && BEFORE_EXPRESSION.contains(&text);
                // `else {`, `try {`, `class A {`, but `return {` is an object.
                block_may_start = !property && (!regex_allowed || matches!(text, "else" | "do"));
                after_condition_keyword = keyword
                    && (matches!(text, "if" | "while" | "for" | "with")
                        || (text == "await" && self.after_condition_keyword));
                Token::Name { text, property }
            }
        };
        self.regex_allowed = regex_allowed;
        self.after_dot = after_dot;
        self.after_condition_keyword = after_condition_keyword;
        self.block_may_start = block_may_start;
        Some(token)
    }

    /// Skips whitespace and comments, recording `sourceMappingURL` comments on the way.
    fn skip_trivia(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' => self.pos += 1,
                b'/' if self.bytes.get(self.pos + 1) == Some(&b'/') => {
                    let body_start = self.pos + 2;
                    let end = self.line_end(body_start);
                    self.comment(body_start, end);
                    self.pos = end;
                }
                b'/' if self.bytes.get(self.pos + 1) == Some(&b'*') => {
                    let body_start = self.pos + 2;
                    let (body_end, end) = match self.source[body_start..].find("*/") {
                        Some(at) => (body_start + at, body_start + at + 2),
                        None => (self.bytes.len(), self.bytes.len()),
                    };
                    self.comment(body_start, body_end);
                    self.pos = end;
                }
                0x80.. => match self.source[self.pos..].chars().next() {
                    Some(c) if c.is_whitespace() || c == '\u{feff}' => self.pos += c.len_utf8(),
                    _ => return,
                },
                _ => return,
            }
        }
    }

    fn comment(&mut self, body_start: usize, body_end: usize) {
        let body = &self.source[body_start..body_end];
        if let Some(range) = source_mapping_url(body) {
            self.comment_refs.push(TextRef {
                span: body_start + range.start..body_start + range.end,
                value: body[range].to_owned(),
                context: TextContext::Comment,
                line: 0,
                column: 0,
            });
        }
    }

    /// The offset of the next line terminator (LF, CR, U+2028, U+2029) at or after `from`.
    fn line_end(&self, from: usize) -> usize {
        let mut i = from;
        while i < self.bytes.len() {
            if self.is_line_terminator(i) {
                return i;
            }
            i += 1;
        }
        i
    }

    fn is_line_terminator(&self, i: usize) -> bool {
        match self.bytes[i] {
            b'\n' | b'\r' => true,
            0xe2 => matches!(self.bytes.get(i + 1..i + 3), Some([0x80, 0xa8 | 0xa9])),
            _ => false,
        }
    }

    fn string(&mut self, start: usize, quote: u8) -> Token<'s> {
        let mut i = start + 1;
        while i < self.bytes.len() {
            match self.bytes[i] {
                b'\\' if self.bytes[i + 1..].starts_with(b"\r\n") => i += 3,
                b'\\' => i += 2,
                b'\n' | b'\r' => break,
                b if b == quote => {
                    self.pos = i + 1;
                    return Token::Str(Literal { start, end: i + 1 });
                }
                _ => i += 1,
            }
        }
        // Unterminated: resume at the line end so one stray quote does not swallow the file.
        self.pos = i.min(self.bytes.len());
        Token::Other
    }

    /// Lexes template text from the `` ` `` or `}` at `start` up to and including the closing
    /// `` ` `` or the next `${`. Returns the token and whether a substitution was opened.
    fn template(&mut self, start: usize) -> (Token<'s>, bool) {
        let mut i = start + 1;
        while i < self.bytes.len() {
            match self.bytes[i] {
                b'\\' => i += 2,
                b'`' => {
                    self.pos = i + 1;
                    let whole = self.bytes[start] == b'`';
                    let token = if whole {
                        Token::Template(Literal { start, end: i + 1 })
                    } else {
                        Token::Other
                    };
                    return (token, false);
                }
                b'$' if self.bytes.get(i + 1) == Some(&b'{') => {
                    self.braces.push(Brace::Substitution);
                    self.pos = i + 2;
                    return (Token::Other, true);
                }
                _ => i += 1,
            }
        }
        self.pos = self.bytes.len();
        (Token::Other, false)
    }

    /// Lexes a regex literal at `start` if there is a terminated one; otherwise leaves the
    /// position alone and returns false, so the `/` is read as division and lexing recovers.
    fn regex(&mut self, start: usize) -> bool {
        let mut i = start + 1;
        let mut in_class = false;
        loop {
            if i >= self.bytes.len() || self.is_line_terminator(i) {
                return false;
            }
            match self.bytes[i] {
                b'\\' => {
                    if self.bytes.get(i + 1).is_none() || self.is_line_terminator(i + 1) {
                        return false;
                    }
                    i += 2;
                }
                b'[' => {
                    in_class = true;
                    i += 1;
                }
                b']' => {
                    in_class = false;
                    i += 1;
                }
                b'/' if !in_class => break,
                _ => i += 1,
            }
        }
        self.pos = self.name_end(i + 1);
        true
    }

    fn number(&mut self, start: usize) -> Token<'s> {
        let mut i = start + 1;
        while i < self.bytes.len()
            && (self.bytes[i].is_ascii_alphanumeric() || matches!(self.bytes[i], b'_' | b'.'))
        {
            i += 1;
        }
        self.pos = i;
        Token::Other
    }

    /// The end of the identifier characters starting at `from`: ASCII letters, digits, `_`,
    /// `$`, `\` (Unicode escapes) and any non-ASCII character that is not whitespace.
    fn name_end(&self, from: usize) -> usize {
        let mut i = from;
        while let Some(&b) = self.bytes.get(i) {
            if b.is_ascii() {
                if !is_name_byte(b) && b != b'\\' {
                    break;
                }
                i += 1;
            } else {
                match self.source[i..].chars().next() {
                    Some(c) if !c.is_whitespace() && c != '\u{feff}' => i += c.len_utf8(),
                    _ => break,
                }
            }
        }
        i
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Where the recognizer is in one of the token sequences it looks for.
#[derive(Debug, Clone, Copy)]
enum State {
    Idle,
    /// After the `import` keyword.
    Import,
    /// Inside an import clause (`x, { a as b }`, `* as ns`), before `from`.
    ImportClause {
        in_braces: bool,
    },
    /// After `from` in an import clause (which may yet turn out to be a binding named `from`).
    ImportFrom,
    /// After `import (`.
    DynamicImport,
    /// After `import ( "x"`.
    DynamicImportArgument(Literal),
    Export,
    ExportStar,
    ExportStarAs,
    ExportBraces,
    /// After `export * as ns` or `export { … }`: only a `from` makes it a re-export.
    ExportNeedsFrom,
    ExportFrom,
    New,
    /// `new URL` followed by the first `step` tokens of `( "x" , import . meta . url`, and the
    /// string once seen.
    NewUrl {
        step: u8,
        literal: Option<Literal>,
    },
}

struct Recognizer<'s> {
    source: &'s str,
    state: State,
    refs: Vec<TextRef>,
}

impl<'s> Recognizer<'s> {
    fn feed(&mut self, token: Token<'s>) {
        if !self.advance(token) {
            self.state = State::Idle;
            self.advance(token);
        }
    }

    /// Moves the current sequence on by `token`, or returns false if `token` does not continue
    /// it (the caller then starts over from `Idle` with the same token).
    fn advance(&mut self, token: Token<'s>) -> bool {
        use State::*;
        use Token::{Name, Punct, Str, Template};
        let keyword = |word: &str| matches!(token, Name { text, property: false } if text == word);
        let name = |word: &str| matches!(token, Name { text, .. } if text == word);
        let is_name = matches!(token, Name { .. });
        self.state = match (self.state, token) {
            (Idle, _) if keyword("import") => Import,
            (Idle, _) if keyword("export") => Export,
            (Idle, _) if keyword("new") => New,
            (Idle, _) => Idle,

            (Import, Str(literal)) => {
                self.report(literal, true);
                Idle
            }
            (Import, Punct(b'(')) => DynamicImport,
            (Import, _) if name("from") => ImportFrom,
            (
                Import,
                Name {
                    property: false, ..
                }
                | Punct(b'*'),
            ) => ImportClause { in_braces: false },
            (Import, Punct(b'{')) => ImportClause { in_braces: true },

            (ImportClause { in_braces: true }, Name { .. } | Str(_) | Punct(b',')) => self.state,
            (ImportClause { in_braces: true }, Punct(b'}')) => ImportClause { in_braces: false },
            (ImportClause { in_braces: false } | ImportFrom, _) if name("from") => ImportFrom,
            (ImportClause { in_braces: false } | ImportFrom, Name { .. } | Punct(b'*' | b',')) => {
                ImportClause { in_braces: false }
            }
            (ImportClause { in_braces: false } | ImportFrom, Punct(b'{')) => {
                ImportClause { in_braces: true }
            }
            (ImportFrom, Str(literal)) => {
                self.report(literal, true);
                Idle
            }

            (DynamicImport, Str(literal) | Template(literal)) => DynamicImportArgument(literal),
            (DynamicImportArgument(literal), Punct(b')' | b',')) => {
                self.report(literal, true);
                Idle
            }

            (Export, Punct(b'*')) => ExportStar,
            (Export, Punct(b'{')) => ExportBraces,
            (Export, _) if keyword("type") => Export,
            (ExportStar, _) if name("as") => ExportStarAs,
            (ExportStar | ExportNeedsFrom, _) if name("from") => ExportFrom,
            (ExportStarAs, Str(_)) => ExportNeedsFrom,
            (ExportStarAs, _) if is_name => ExportNeedsFrom,
            (ExportBraces, Name { .. } | Str(_) | Punct(b',')) => ExportBraces,
            (ExportBraces, Punct(b'}')) => ExportNeedsFrom,
            (ExportFrom, Str(literal)) => {
                self.report(literal, true);
                Idle
            }

            (New, _) if keyword("URL") => NewUrl {
                step: 0,
                literal: None,
            },
            (NewUrl { step, literal }, _) => {
                let fits = match step {
                    0 => token == Punct(b'('),
                    1 => matches!(token, Str(_) | Template(_)),
                    2 => token == Punct(b','),
                    3 => keyword("import"),
                    4 | 6 => token == Punct(b'.'),
                    5 => name("meta"),
                    7 => name("url"),
                    _ => matches!(token, Punct(b')' | b',')),
                };
                match (fits, token, literal) {
                    (false, ..) => return false,
                    (true, Str(l) | Template(l), _) => NewUrl {
                        step: step + 1,
                        literal: Some(l),
                    },
                    (true, _, Some(l)) if step == 8 => {
                        // The URL is relative to the module, so any string is a reference,
                        // `x.png` as much as `./x.png`.
                        self.report(l, false);
                        Idle
                    }
                    (true, ..) => NewUrl {
                        step: step + 1,
                        literal,
                    },
                }
            }

            _ => return false,
        };
        true
    }

    fn report(&mut self, literal: Literal, module_specifier: bool) {
        let span = literal.start + 1..literal.end - 1;
        let quote = char::from(self.source.as_bytes()[literal.start]);
        let Some(value) = decode(&self.source[span.clone()], quote == '`') else {
            return;
        };
        if value.is_empty() || (module_specifier && !is_relative(&value)) {
            return;
        }
        self.refs.push(TextRef {
            span,
            value,
            context: TextContext::JsString(quote),
            line: 0,
            column: 0,
        });
    }
}

/// Relative (`./`, `../`) or root-relative (`/`, but not the network-path `//host`).
fn is_relative(specifier: &str) -> bool {
    specifier.starts_with("./")
        || specifier.starts_with("../")
        || (specifier.starts_with('/') && !specifier.starts_with("//"))
}

/// The value of a string literal's (or substitution-free template's) body, with escapes
/// resolved; `None` when it has no string value (a lone surrogate, an escape a template forbids).
fn decode(raw: &str, template: bool) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // Template values normalize line endings; strings cannot hold a raw CR.
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push('\n');
            }
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'v' => out.push('\u{b}'),
                '0' if !chars.peek().is_some_and(char::is_ascii_digit) => out.push('\0'),
                d @ '0'..='7' if !template => {
                    // Legacy octal escape (sloppy scripts only): up to 3 digits, at most 0o377.
                    let mut value = d.to_digit(8)?;
                    let max_digits = if d <= '3' { 2 } else { 1 };
                    for _ in 0..max_digits {
                        match chars.peek().and_then(|c| c.to_digit(8)) {
                            Some(digit) => {
                                value = value * 8 + digit;
                                chars.next();
                            }
                            None => break,
                        }
                    }
                    out.push(char::from_u32(value)?);
                }
                d @ ('8' | '9') if !template => out.push(d),
                '0'..='9' => return None,
                'x' => {
                    let value = hex_digits(&mut chars, 2)?;
                    out.push(char::from_u32(value)?);
                }
                'u' => {
                    let unit = unicode_escape(&mut chars)?;
                    let value = if (0xd800..0xdc00).contains(&unit) {
                        // A high surrogate only makes a character with a `\u` low one after it.
                        if chars.next() != Some('\\') || chars.next() != Some('u') {
                            return None;
                        }
                        let low = unicode_escape(&mut chars)?;
                        if !(0xdc00..0xe000).contains(&low) {
                            return None;
                        }
                        0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
                    } else {
                        unit
                    };
                    out.push(char::from_u32(value)?);
                }
                // Line continuations contribute nothing.
                '\r' => {
                    chars.next_if_eq(&'\n');
                }
                '\n' | '\u{2028}' | '\u{2029}' => {}
                other => out.push(other),
            },
            _ => out.push(c),
        }
    }
    Some(out)
}

fn hex_digits(chars: &mut Peekable<Chars<'_>>, count: usize) -> Option<u32> {
    let mut value = 0;
    for _ in 0..count {
        value = value * 16 + chars.next()?.to_digit(16)?;
    }
    Some(value)
}

/// The code point (or UTF-16 unit) of a `\u` escape after the `u`: `XXXX` or `{X…}`.
fn unicode_escape(chars: &mut Peekable<Chars<'_>>) -> Option<u32> {
    if chars.next_if_eq(&'{').is_none() {
        return hex_digits(chars, 4);
    }
    let mut value = 0u32;
    let mut digits = 0;
    loop {
        match chars.next()? {
            '}' if digits > 0 => return Some(value),
            c => {
                value = value.checked_mul(16)?.checked_add(c.to_digit(16)?)?;
                digits += 1;
                if value > 0x10ffff {
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::text_ref::{splice, LineIndex};

    fn values(source: &str) -> Vec<String> {
        scan_checked(source).into_iter().map(|r| r.value).collect()
    }

    fn none() -> Vec<String> {
        Vec::new()
    }

    /// Checks the invariants every scan must keep, then returns the references.
    fn scan_checked(source: &str) -> Vec<TextRef> {
        let refs = scan_js(source);
        let index = LineIndex::new(source);
        let mut previous_end = 0;
        for r in &refs {
            assert!(
                r.span.start >= previous_end && r.span.end <= source.len(),
                "{r:?} in {source:?}"
            );
            assert!(source.is_char_boundary(r.span.start) && source.is_char_boundary(r.span.end));
            assert_eq!((r.line, r.column), index.line_column(r.span.start));
            assert!(!r.value.is_empty());
            previous_end = r.span.end;
        }
        refs
    }

    fn raw<'a>(source: &'a str, r: &TextRef) -> &'a str {
        &source[r.span.clone()]
    }

    #[test]
    fn static_imports_in_every_form() {
        let src = r#"import a from "./a.js";
import * as b from './b.js';
import { c, d as e } from "./c.js";
import f, { g } from "../f.js";
import h, * as i from "/h.js";
import {
  j,
  k,
} from "./multi-line.js";
import "./side-effect.css";
import data from "./data.json" with { type: "json" };
import { "string name" as s } from "./s.js";
import from from "./from.js";
import type { T } from "./types.js";
import defer * as lazy from "./deferred.js";
"#;
        let refs = scan_checked(src);
        assert_eq!(
            values(src),
            [
                "./a.js",
                "./b.js",
                "./c.js",
                "../f.js",
                "/h.js",
                "./multi-line.js",
                "./side-effect.css",
                "./data.json",
                "./s.js",
                "./from.js",
                "./types.js",
                "./deferred.js"
            ]
        );
        assert_eq!(refs[0].context, TextContext::JsString('"'));
        assert_eq!(refs[1].context, TextContext::JsString('\''));
        assert_eq!((refs[1].line, refs[1].column), (2, 21));
        assert_eq!(raw(src, &refs[0]), "./a.js");
    }

    #[test]
    fn re_exports_in_every_form() {
        let src = r#"export * from "./all.js";
export * as ns from './ns.js';
export { a, b as c } from "./named.js";
export { default } from "./default.js";
export { "x-y" as xy } from "./string-name.js";
export * as "str" from "./str-ns.js";
export type { T } from "./types.js";
"#;
        assert_eq!(
            values(src),
            [
                "./all.js",
                "./ns.js",
                "./named.js",
                "./default.js",
                "./string-name.js",
                "./str-ns.js",
                "./types.js"
            ]
        );
    }

    #[test]
    fn exports_without_from_are_not_references() {
        let src = r#"export { a };
"./not-a-reference.js";
export const from = "./nor-this.js";
export default "./nor-that.js";
export function f() { return "./nope.js" }
export { b }
from("./not-import.js")
"#;
        assert_eq!(values(src), none());
    }

    #[test]
    fn dynamic_imports() {
        let src = "const a = await import(\"./a.js\");\nimport('./b.js').then(m => m);\n\
                   import(`./c.js`);\nimport(\"./d.json\", { with: { type: \"json\" } });\nimport ( /* why */ './e.js' )";
        let refs = scan_checked(src);
        assert_eq!(
            values(src),
            ["./a.js", "./b.js", "./c.js", "./d.json", "./e.js"]
        );
        assert_eq!(refs[2].context, TextContext::JsString('`'));
        assert_eq!(raw(src, &refs[2]), "./c.js");
    }

    #[test]
    fn dynamic_imports_that_are_not_a_single_literal() {
        let src = "import(x); import(\"./a\" + b); import(`./${name}.js`); import(cond ? \"./a.js\" : \"./b.js\");\n\
                   import(\"./x.js\".replace(\"x\", y));";
        assert_eq!(values(src), none());
    }

    #[test]
    fn bare_and_network_specifiers_are_left_alone() {
        let src = r#"import React from "react";
import "lodash/fp";
export * from "@scope/pkg";
import("some-package");
import x from "https://cdn.example/x.js";
import y from "//cdn.example/y.js";
import z from ".";
import ok from "./ok.js";
"#;
        assert_eq!(values(src), ["./ok.js"]);
    }

    #[test]
    fn new_url_with_import_meta_url() {
        let src = "const a = new URL(\"x.png\", import.meta.url);\nconst b = new URL('./y.svg', import.meta.url).href;\n\
                   const c = new URL(`../z.woff2`, import.meta.url, );\nnew URL(\"https://ex.example/w.png\", import.meta.url)";
        let refs = scan_checked(src);
        assert_eq!(
            values(src),
            ["x.png", "./y.svg", "../z.woff2", "https://ex.example/w.png"]
        );
        assert_eq!(refs[2].context, TextContext::JsString('`'));
        let worker =
            "new Worker(new URL(\"./worker.js\", import.meta.url), { type: \"module\" });\n\
                      import(new URL('./lazy.js', import.meta.url).href);";
        assert_eq!(values(worker), ["./worker.js", "./lazy.js"]);
    }

    #[test]
    fn new_url_with_another_base_is_not_a_reference() {
        let src = r#"new URL("a.png");
new URL("b.png", location.href);
new URL("c.png", import.meta.url + "/");
new URL("d.png", import.meta.resolve("./"));
new window.URL("e.png", import.meta.url);
new URLSearchParams("f.png", import.meta.url);
new URL("g" + ".png", import.meta.url);
new URL(`${h}.png`, import.meta.url);
"#;
        assert_eq!(values(src), none());
    }

    #[test]
    fn import_meta_and_property_names_do_not_confuse() {
        let src = r#"console.log(import.meta.url); import "./after-meta.js";
obj.import("./method.js"); obj?.import('./optional.js'); x.from; y.export;
const o = { import: "./key.js", from: "./key2.js", export: "./key3.js" };
class C { import(x) { return x } static from(y) {} }
obj.new.URL("./p.png", import.meta.url);
import "./last.js";
"#;
        assert_eq!(values(src), ["./after-meta.js", "./last.js"]);
    }

    #[test]
    fn look_alike_strings_and_comments_are_left_alone() {
        let src = r#"const s = "import './x.js'";
const t = 'export * from "./y.js"';
// import "./line-comment.js";
/* import("./block-comment.js"); new URL("z.png", import.meta.url) */
const u = `import "./template.js"`;
const v = "new URL('w.png', import.meta.url)";
"#;
        assert_eq!(values(src), none());
    }

    #[test]
    fn template_literals_with_nested_substitutions() {
        let src = r#"const a = `x ${ `y ${ "}" } import "./no1.js" ${ {k: 1}.k }` } import('./no2.js') ${ '`' }`;
const b = `${ import("./yes1.js") }`;
import "./yes2.js";
const c = `unterminated ${ x } import "./no3.js"
"#;
        assert_eq!(values(src), ["./yes1.js", "./yes2.js"]);
    }

    #[test]
    fn regex_literals_are_skipped() {
        let src = r#"const re = /import "\.\/x.js"/g;
const cls = /[/"]/; import "./after-class.js";
const esc = /\/"/; import "./after-escape.js";
if (ok) /'/.test(s); import './after-if.js';
function f() { return /"/.test(s) } import "./after-return.js";
x = typeof /"/; import "./after-typeof.js";
y = [/"/, /'/]; import "./after-array.js";
z = a ? /"/ : /'/; import "./after-ternary.js";
"#;
        assert_eq!(
            values(src),
            [
                "./after-class.js",
                "./after-escape.js",
                "./after-if.js",
                "./after-return.js",
                "./after-typeof.js",
                "./after-array.js",
                "./after-ternary.js"
            ]
        );
    }

    #[test]
    fn divisions_are_not_regexes() {
        // Read as a regex, each first `/` would swallow the import up to the second.
        let src = r#"h = total / 2; import("./a.js"); q = total / 4;
(a + b) / 2; import("./b.js"); c / 3;
arr[0] / 2; import("./c.js"); x / 1;
10 / 2; import("./d.js"); 1 / 1;
this / 2; import("./e.js"); this / 1;
i++ / 2; import("./f.js"); i-- / 1;
obj.return / 2; import("./g.js"); y / 1;
1.5e3 / 2; import("./h.js"); .5 / 1;
x /= 2; import("./i.js"); y /= 1;
"#;
        assert_eq!(
            values(src),
            [
                "./a.js", "./b.js", "./c.js", "./d.js", "./e.js", "./f.js", "./g.js", "./h.js",
                "./i.js"
            ]
        );
    }

    #[test]
    fn after_a_block_a_slash_starts_a_regex_and_after_an_object_it_divides() {
        let src = r#"if (a) { b() } /'/.test(s); import './after-if-block.js';
function f() {}
/"/.test(s); import "./after-function.js";
try {} finally {} /'/g; import './after-finally.js';
class A extends B {} /"/; import "./after-class.js";
const g = () => {}
/"/; import "./after-arrow-body.js";
x = { a: 1 } / 2; import("./after-object.js"); y = 1 / 1;
x = [{}] / 2; import("./after-array-object.js"); y = 1 / 1;
x = f({}) / 2; import("./after-call.js"); y = 1 / 1;
function g2() { return { a: 1 } / 2; import("./after-returned-object.js"); y = 1 / 1; }
"#;
        assert_eq!(
            values(src),
            [
                "./after-if-block.js",
                "./after-function.js",
                "./after-finally.js",
                "./after-class.js",
                "./after-arrow-body.js",
                "./after-object.js",
                "./after-array-object.js",
                "./after-call.js",
                "./after-returned-object.js"
            ]
        );
    }

    #[test]
    fn unterminated_regex_recovers_as_division() {
        let src = "x = /abc\nimport \"./ok.js\";";
        assert_eq!(values(src), ["./ok.js"]);
    }

    #[test]
    fn source_mapping_url_comments() {
        let src =
            "console.log(1);\n//# sourceMappingURL=app.js.map\n//@ sourceMappingURL=legacy.map\r\n\
                   /*# sourceMappingURL=block.map */\n//#sourceMappingURL=tight.map  ";
        let refs = scan_checked(src);
        assert_eq!(
            values(src),
            ["app.js.map", "legacy.map", "block.map", "tight.map"]
        );
        assert!(refs.iter().all(|r| r.context == TextContext::Comment));
        assert_eq!((refs[0].line, refs[0].column), (2, 22));
        assert_eq!(raw(src, &refs[1]), "legacy.map");
    }

    #[test]
    fn source_mapping_url_look_alikes_are_not_references() {
        let src = "const s = \"//# sourceMappingURL=str.map\";\nconst t = `\n//# sourceMappingURL=tpl.map\n`;\n\
                   // see //# sourceMappingURL=inner.map\n//# sourceMappingURL=a.map and more\n//# sourceMappingURL=\n\
                   x = /\\/\\/# sourceMappingURL=re.map/;";
        assert_eq!(values(src), none());
    }

    #[test]
    fn hashbang_is_a_comment() {
        assert_eq!(
            values("#!/usr/bin/env node import \"./no.js\"\nimport \"./yes.js\""),
            ["./yes.js"]
        );
    }

    #[test]
    fn escapes_are_resolved_and_spans_cover_the_raw_text() {
        let src = r#"import "./\u0061.js"; import './it\'s.js'; import "./\x62\u{63}.js"; import "./line\
cont.js"; import "./\uD83D\uDE00.js"; new URL(`t\`ick.png`, import.meta.url);"#;
        let refs = scan_checked(src);
        assert_eq!(
            values(src),
            [
                "./a.js",
                "./it's.js",
                "./bc.js",
                "./linecont.js",
                "./\u{1F600}.js",
                "t`ick.png"
            ]
        );
        assert_eq!(raw(src, &refs[0]), r"./\u0061.js");
        assert_eq!(raw(src, &refs[1]), r"./it\'s.js");
        assert_eq!(raw(src, &refs[5]), r"t\`ick.png");
    }

    #[test]
    fn strings_without_a_value_are_skipped() {
        assert_eq!(
            values(r#"import "./\uD83D.js"; import "./\u{110000}.js"; import "./ok.js";"#),
            ["./ok.js"]
        );
        assert_eq!(
            values(r#"new URL(`\1.png`, import.meta.url); new URL("", import.meta.url)"#),
            none()
        );
    }

    #[test]
    fn decode_covers_the_escape_forms() {
        assert_eq!(
            decode(r"\n\t\r\b\f\v\0", false).as_deref(),
            Some("\n\t\r\u{8}\u{c}\u{b}\0")
        );
        assert_eq!(decode(r"\101\7\08", false).as_deref(), Some("A\u{7}\u{0}8"));
        assert_eq!(decode(r"\08", true), None);
        assert_eq!(decode(r"\q\'\`", false).as_deref(), Some("q'`"));
        assert_eq!(decode("a\r\nb", true).as_deref(), Some("a\nb"));
        assert_eq!(decode("\\\u{2028}x", false).as_deref(), Some("x"));
        assert_eq!(decode(r"\x4", false), None);
        assert_eq!(decode("\\", false), None);
    }

    #[test]
    fn line_and_column_count_characters() {
        let src = "// é\nconst ü = 1; import \"./ü.js\";\n\n  new URL('ä.png', import.meta.url)";
        let refs = scan_checked(src);
        assert_eq!((refs[0].line, refs[0].column), (2, 22));
        assert_eq!((refs[1].line, refs[1].column), (4, 12));
    }

    #[test]
    fn splicing_every_reference_with_its_own_value_reproduces_the_source() {
        let src = "import a from './a.js';\nexport * from \"../b.js\";\nimport('/c.js');\n\
                   const u = new URL(`d.png`, import.meta.url);\n//# sourceMappingURL=e.js.map\n";
        let refs = scan_checked(src);
        assert_eq!(refs.len(), 5);
        let same: Vec<_> = refs.iter().map(|r| (r, r.value.clone())).collect();
        assert_eq!(splice(src, same), src);
        let raws: Vec<_> = refs.iter().map(|r| (r, raw(src, r).to_owned())).collect();
        assert_eq!(splice(src, raws), src);
    }

    #[test]
    fn rewriting_changes_only_the_values() {
        let src = "import a from './a.js'; // import './a.js'\nconst s = \"./a.js\";\nimport('./b.js');\n\
                   //# sourceMappingURL=main.js.map";
        let refs = scan_checked(src);
        let replacements = refs
            .iter()
            .map(|r| {
                let (stem, ext) = r.value.rsplit_once('.').unwrap();
                (r, format!("{stem}.5f3e.{ext}"))
            })
            .collect();
        assert_eq!(
            splice(src, replacements),
            "import a from './a.5f3e.js'; // import './a.js'\nconst s = \"./a.js\";\nimport('./b.5f3e.js');\n\
             //# sourceMappingURL=main.js.5f3e.map"
        );
    }

    #[test]
    fn rewritten_values_needing_escapes_read_back_as_themselves() {
        let src = "import './a.js'; import(\"./b.js\"); new URL(`c.png`, import.meta.url)";
        let refs = scan_checked(src);
        let new = ["./it's.js", "./q\"\\.js", "./${x}`.png"];
        let out = splice(
            src,
            refs.iter()
                .zip(new)
                .map(|(r, v)| (r, v.to_owned()))
                .collect(),
        );
        assert_eq!(values(&out), new);
    }

    #[test]
    fn unterminated_input_never_reports_or_panics() {
        for (src, expected) in [
            ("import \"./x.js", none()),
            ("import './x.js\nimport", none()),
            ("import(`./x.js", none()),
            ("`${ import(\"./x.js\") ", vec!["./x.js".to_owned()]),
            ("/* import \"./x.js\"", none()),
            ("x = /[/", none()),
            ("import", none()),
            ("new URL(\"x.png\", import.meta.", none()),
            ("new URL(\"x.png\", import.meta.url", none()),
            ("\\", none()),
            ("#", none()),
            ("'\\", none()),
            ("`\\", none()),
            ("${}}}}))))]]]", none()),
        ] {
            assert_eq!(values(src), expected, "{src:?}");
        }
    }

    #[test]
    fn deep_nesting_is_fine() {
        // Code inside `${}` is code, however deep.
        let src = format!(
            "{}{}{} import \"./ok.js\"",
            "(".repeat(100_000),
            "{".repeat(100_000),
            "`${".repeat(100_000)
        );
        assert_eq!(values(&src), ["./ok.js"]);
        let src = format!(
            "{}{} import \"./ok.js\"",
            "`${".repeat(1000),
            "}`".repeat(1000)
        );
        assert_eq!(values(&src), ["./ok.js"]);
    }

    #[test]
    fn garbage_never_panics() {
        const PIECES: &[&str] = &[
            "import",
            "export",
            "from",
            "new",
            "URL",
            "import.meta.url",
            "(",
            ")",
            "{",
            "}",
            "[",
            "]",
            "${",
            "`",
            "'",
            "\"",
            "\\",
            "/",
            "//",
            "/*",
            "*/",
            "*",
            ",",
            ".",
            "./x.js",
            "\n",
            "\r",
            " ",
            "é",
            "\u{2028}",
            "\u{feff}",
            "#",
            "#!",
            "++",
            "if",
            "return",
            "//# sourceMappingURL=a.map",
            "\u{0}",
            "\u{1F600}",
            "0x1",
            "\\u{",
            "\\u00",
            ";",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..5000 {
            let mut src = String::new();
            for _ in 0..(state % 40) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                src.push_str(PIECES[(state % PIECES.len() as u64) as usize]);
            }
            scan_checked(&src);
        }
    }

    #[test]
    fn large_input_is_scanned_linearly() {
        let chunk = "import a from './a.js'; const r = /\"/g, d = x / 2; const s = `${ 'import \"./no.js\"' }`; // c\n";
        let count = (1 << 20) / chunk.len();
        let src = chunk.repeat(count);
        let started = std::time::Instant::now();
        let refs = scan_js(&src);
        assert_eq!(refs.len(), count);
        assert_eq!(refs.last().map(|r| r.line), Some(count as u32));
        // Generous even for an unoptimized build; quadratic behaviour would take minutes.
        assert!(
            started.elapsed().as_secs() < 10,
            "took {:?}",
            started.elapsed()
        );
    }
}
