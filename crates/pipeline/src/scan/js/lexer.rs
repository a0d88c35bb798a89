//! The JavaScript lexer: strings, template literals and their substitutions, comments and
//! regex literals (telling a regex from a division by what came before), as tokens for the
//! recognizer; one pass, no recursion.

use crate::scan::text_ref::{source_mapping_url, TextContext, TextRef};

/// A string or template literal: byte range including its delimiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Literal {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token<'s> {
    /// An identifier or keyword; `property` when it follows `.` (`obj.import`, `import.meta`),
    /// where it can never be a keyword.
    Name { text: &'s str, property: bool },
    /// A terminated `'…'` or `"…"` string literal.
    Str(Literal),
    /// A terminated template literal without substitutions.
    Template(Literal),
    /// The text of a template literal before, between or after its substitutions
    /// (`` `${base}/search/index.json` `` has `/search/index.json`): `start..end` is the text
    /// alone, without the delimiters (`` ` ``, `${`, `}`).
    TemplatePart(Literal),
    /// A one-byte punctuator (multi-byte operators arrive as several).
    Punct(u8),
    /// Anything else the recognizer never needs to see inside: numbers, regexes, `...`,
    /// `++`, private names, unterminated literals.
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

/// Whether `word` is a keyword after which an expression, and so a regex literal, may
/// start (a `match`, which compiles to a switch on length: every name is tested).
fn before_expression(word: &str) -> bool {
    matches!(
        word,
        "return"
            | "typeof"
            | "instanceof"
            | "in"
            | "of"
            | "new"
            | "delete"
            | "void"
            | "throw"
            | "case"
            | "do"
            | "else"
            | "yield"
            | "await"
            | "extends"
    )
}

pub(super) struct Lexer<'s> {
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
    /// The `sourceMappingURL` comments seen so far.
    pub comment_refs: Vec<TextRef>,
}

impl<'s> Lexer<'s> {
    pub fn new(source: &'s str) -> Self {
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

    // Inlined into each loop over the tokens: a call per token, and the token returned
    // through memory, were a fifth of the lexer's time.
    #[inline(always)]
    pub fn next_token(&mut self) -> Option<Token<'s>> {
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
                let (token, opened_substitution) = self.template(start);
                regex_allowed = opened_substitution;
                token
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
                regex_allowed = keyword && before_expression(text);
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
                        Token::TemplatePart(Literal {
                            start: start + 1,
                            end: i,
                        })
                    };
                    return (token, false);
                }
                b'$' if self.bytes.get(i + 1) == Some(&b'{') => {
                    self.braces.push(Brace::Substitution);
                    self.pos = i + 2;
                    let part = Literal {
                        start: start + 1,
                        end: i,
                    };
                    return (Token::TemplatePart(part), true);
                }
                _ => i += 1,
            }
        }
        // Unterminated: no part, as for an unterminated string.
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
                if !ASCII_NAME[usize::from(b)] {
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

/// The ASCII bytes an identifier goes on with: letters, digits, `_`, `$` and `\\` (a
/// Unicode escape), as a table (a name is most of a script's tokens).
const ASCII_NAME: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric() || matches!(b as u8, b'_' | b'$' | b'\\');
        b += 1;
    }
    table
};

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}
