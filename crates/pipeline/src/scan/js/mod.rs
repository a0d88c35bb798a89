//! Finds the module and asset references in JavaScript source (ES module imports and re-exports,
//! dynamic `import()`, `new URL(…, import.meta.url)` and `sourceMappingURL` comments), with the
//! exact byte span of each value, so the build can rewrite them without touching any other byte.
//!
//! A regular expression over the text cannot tell code from look-alike text in strings,
//! comments, template literals or regex literals, so this is a small lexer: it knows JS lexical
//! structure (including the regex-versus-division ambiguity) but no grammar beyond the handful
//! of token sequences it looks for. It never recurses, so no input can exhaust the stack, and it
//! makes one pass, so time is linear in the input.

mod escape;
mod lexer;

use crate::scan::js::escape::decode;
use crate::scan::js::lexer::{Lexer, Literal, Token};
use std::ops::Range;

use crate::scan::text_ref::{locate, TextContext, TextRef};

/// Every reference in `source`, in source order: static `import`/`export … from` specifiers and
/// string-literal `import()` arguments that are relative (`./`, `../`) or root-relative (`/`);
/// any string in `new URL("…", import.meta.url)`; and `sourceMappingURL` comments. Bare
/// specifiers (`"react"`) are packages, not files, and are never reported.
pub fn scan_js(source: &str) -> Vec<TextRef> {
    scan_js_and_strings(source, |_| false).0
}

/// [`scan_js`], and in the same pass the strings [`string_literals_where`] would keep, as
/// spans (without their delimiters) with their quote, escapes not resolved; none that is a
/// reference reported.
pub fn scan_js_and_strings(
    source: &str,
    keep: impl Fn(&str) -> bool,
) -> (Vec<TextRef>, Vec<(Range<usize>, char)>) {
    let mut lexer = Lexer::new(source);
    let mut recognizer = Recognizer {
        source,
        state: State::Idle,
        refs: Vec::new(),
    };
    let mut strings = Strings::new(source, keep);
    while let Some(token) = lexer.next_token() {
        recognizer.feed(token);
        strings.feed(token);
    }
    let mut refs = recognizer.refs;
    refs.append(&mut lexer.comment_refs);
    locate(source, &mut refs);
    let mut strings = strings.found;
    if !strings.is_empty() {
        // The references the build rewrites are not runtime URLs (both sorted by start).
        let spans: Vec<&Range<usize>> = refs.iter().map(|r| &r.span).collect();
        strings.retain(|(span, _)| {
            spans
                .binary_search_by_key(&span.start, |s| s.start)
                .map_or(true, |i| spans[i] != span)
        });
    }
    (refs, strings)
}

/// Every string in `source` as the program sees it (escapes resolved), in source order:
/// string literals, template literals, and the text around a template's substitutions.
/// Code names a file it fetches at run time in one of these (`fetch("data.json")`, Vite's
/// preload list, an asset URL a bundler inlined); `build/runtime_urls.rs` reads them for the
/// ones that name files the build renames. Object keys are strings too. The argument of a
/// CommonJS `require("…")` is not: a bundler or Node resolves it, no browser fetches it.
pub fn string_literals(source: &str) -> Vec<TextRef> {
    string_literals_where(source, |_| true)
}

/// [`string_literals`], only those whose text as written (escapes not resolved) `keep`
/// accepts: a cheap test that spares decoding and locating the many strings of a bundle
/// that cannot be what the caller looks for.
pub fn string_literals_where(source: &str, keep: impl Fn(&str) -> bool) -> Vec<TextRef> {
    let mut lexer = Lexer::new(source);
    let mut strings = Strings::new(source, keep);
    while let Some(token) = lexer.next_token() {
        strings.feed(token);
    }
    decoded_strings(source, strings.found)
}

/// The strings at `spans` (as [`scan_js_and_strings`] gives them) with their escapes
/// resolved and their `line:column`; a string whose escapes are invalid is left out.
pub fn decoded_strings(source: &str, spans: Vec<(Range<usize>, char)>) -> Vec<TextRef> {
    let mut strings: Vec<TextRef> = spans
        .into_iter()
        .filter_map(|(span, quote)| {
            let value = decode(&source[span.clone()], quote == '`')?;
            Some(TextRef {
                span,
                value,
                context: TextContext::JsString(quote),
                line: 0,
                column: 0,
            })
        })
        .collect();
    locate(source, &mut strings);
    strings
}

/// Whether a string, as written, may name a file at all, whatever the tree: short, no
/// whitespace, and a last segment with an extension (or escaped, so that only its
/// decoding tells). What the scan keeps for the runtime-URL search, which needs no file
/// of the tree to decide it, so that the scan cache can hold it.
pub fn may_name_a_file(raw: &str) -> bool {
    if raw.len() > MAX_NAME_LENGTH
        || raw
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return false;
    }
    written_file_name(raw).is_none_or(|name| {
        name.rsplit_once('.')
            .is_some_and(|(stem, ext)| !stem.is_empty() && !ext.is_empty())
    })
}

/// The last path segment of a string as written, before any query or fragment; None when
/// it is escaped (`\\`, `%`), so that only its decoding tells.
pub fn written_file_name(raw: &str) -> Option<&str> {
    if raw.contains(['\\', '%']) {
        return None;
    }
    let path = raw.split(['?', '#']).next().unwrap_or_default();
    Some(path.rsplit('/').next().unwrap_or_default())
}

/// Longer strings are data, not file names.
pub const MAX_NAME_LENGTH: usize = 2048;

/// The strings of a token stream that `keep` accepts as written, as spans with their quote.
struct Strings<'s, K> {
    source: &'s str,
    keep: K,
    /// The two tokens before this one, for `require (`.
    before: [Option<Token<'s>>; 2],
    found: Vec<(Range<usize>, char)>,
}

impl<'s, K: Fn(&str) -> bool> Strings<'s, K> {
    fn new(source: &'s str, keep: K) -> Self {
        Self {
            source,
            keep,
            before: [None, None],
            found: Vec::new(),
        }
    }

    fn feed(&mut self, token: Token<'s>) {
        let after_require = matches!(
            self.before,
            [
                Some(Token::Name {
                    text: "require",
                    property: false
                }),
                Some(Token::Punct(b'('))
            ]
        );
        self.before = [self.before[1], Some(token)];
        if after_require {
            return;
        }
        let (span, quote) = match token {
            Token::Str(l) => (
                l.start + 1..l.end - 1,
                char::from(self.source.as_bytes()[l.start]),
            ),
            Token::Template(l) => (l.start + 1..l.end - 1, '`'),
            Token::TemplatePart(l) => (l.start..l.end, '`'),
            _ => return,
        };
        if (self.keep)(&self.source[span.clone()]) {
            self.found.push((span, quote));
        }
    }
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
    #[inline]
    fn feed(&mut self, token: Token<'s>) {
        // Most tokens start nothing: only three keywords leave `Idle`.
        if let State::Idle = self.state {
            if !matches!(
                token,
                Token::Name {
                    text: "import" | "export" | "new",
                    property: false
                }
            ) {
                return;
            }
        }
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

#[cfg(test)]
mod tests;
