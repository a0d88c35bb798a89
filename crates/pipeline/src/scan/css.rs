//! Finds the URL references in CSS text (a stylesheet, a `<style>` element's content or a
//! `style` attribute's declaration list), with the exact byte span of each value, so the build
//! can rewrite them without touching any other byte.
//!
//! Tokenizing is cssparser's (the tokenizer lol_html already uses), so comments, strings and
//! escapes are recognized exactly as browsers recognize them; this module only decides which
//! tokens are URLs and measures where their values sit.

use std::ops::Range;

use cssparser::{ParseError, Parser, ParserInput, Token};

use crate::scan::text_ref::{locate, source_mapping_url, TextContext, TextRef};

/// Blocks nested deeper than this are skipped rather than scanned: each level is a stack frame,
/// and no real stylesheet comes near it, while a hostile one could exhaust the stack.
const MAX_DEPTH: usize = 200;

/// Every URL reference in `source`, in source order: `url()` (quoted or not), `@import`
/// strings, strings inside `image-set()`, and `sourceMappingURL` comments. Values are returned
/// as written (including `data:` and absolute URLs, which the caller classifies); empty values
/// are skipped because they reference nothing.
pub fn scan_css(source: &str) -> Vec<TextRef> {
    let mut input = ParserInput::new(source);
    let mut parser = Parser::new(&mut input);
    let mut scanner = Scanner {
        source,
        refs: Vec::new(),
    };
    scanner.block(&mut parser, Strings::NotUrls, 0);
    locate(source, &mut scanner.refs);
    scanner.refs
}

/// What a string token means in the block being scanned.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strings {
    /// Ordinary CSS strings (`content`, `font-family`, `local()`, `format()`): never URLs.
    NotUrls,
    /// Directly inside `image-set()`, where a bare string is shorthand for `url()`.
    Urls,
    /// Inside `url(` or `src(`: the first string is the URL, anything after it is a modifier.
    FirstIsUrl,
}

struct Scanner<'s> {
    source: &'s str,
    refs: Vec<TextRef>,
}

impl Scanner<'_> {
    fn block(&mut self, parser: &mut Parser<'_, '_>, strings: Strings, depth: usize) {
        let mut after_import = false;
        let mut first_significant = true;
        loop {
            let start = parser.position().byte_index();
            let token = match parser.next_including_whitespace_and_comments() {
                Ok(token) => token.clone(),
                Err(_) => break,
            };
            let end = parser.position().byte_index();
            let nested = match &token {
                Token::WhiteSpace(_) => continue,
                Token::Comment(body) => {
                    // `@import /* why */ "x"` is still an import, so comments keep the state.
                    self.comment(start + 2, body);
                    continue;
                }
                Token::UnquotedUrl(value) => {
                    self.push(
                        unquoted_url_value(self.source, start, end),
                        value,
                        TextContext::CssUnquotedUrl,
                    );
                    None
                }
                Token::QuotedString(value) => {
                    let is_url = after_import
                        || strings == Strings::Urls
                        || (strings == Strings::FirstIsUrl && first_significant);
                    if is_url {
                        let quote = char::from(self.source.as_bytes()[start]);
                        self.push(
                            string_body(self.source, start, end),
                            value,
                            TextContext::CssString(quote),
                        );
                    }
                    None
                }
                Token::Function(name) => Some(
                    if name.eq_ignore_ascii_case("url") || name.eq_ignore_ascii_case("src") {
                        Strings::FirstIsUrl
                    } else if name.eq_ignore_ascii_case("image-set")
                        || name.eq_ignore_ascii_case("-webkit-image-set")
                    {
                        Strings::Urls
                    } else {
                        Strings::NotUrls
                    },
                ),
                Token::ParenthesisBlock | Token::SquareBracketBlock | Token::CurlyBracketBlock => {
                    Some(Strings::NotUrls)
                }
                _ => None,
            };
            first_significant = false;
            after_import =
                matches!(&token, Token::AtKeyword(name) if name.eq_ignore_ascii_case("import"));
            if let Some(inner) = nested {
                let _ = parser.parse_nested_block(|nested| {
                    if depth < MAX_DEPTH {
                        self.block(nested, inner, depth + 1);
                    } else {
                        // Flat, so without recursion: the parser skips blocks nested in here.
                        while nested.next_including_whitespace_and_comments().is_ok() {}
                    }
                    Ok::<(), ParseError<'_, ()>>(())
                });
            }
        }
    }

    /// `body` is a comment's text after `/*`, starting at byte `at` of the source.
    fn comment(&mut self, at: usize, body: &str) {
        if let Some(range) = source_mapping_url(body) {
            let span = at + range.start..at + range.end;
            self.refs.push(TextRef {
                value: body[range].to_owned(),
                span,
                context: TextContext::Comment,
                line: 0,
                column: 0,
            });
        }
    }

    fn push(&mut self, span: Range<usize>, value: &str, context: TextContext) {
        if value.is_empty() {
            return;
        }
        self.refs.push(TextRef {
            span,
            value: value.to_owned(),
            context,
            line: 0,
            column: 0,
        });
    }
}

fn is_css_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// The raw value of an unquoted `url(...)` token spanning `start..end`: after the (possibly
/// escaped) function name, the `(` and any whitespace; up to trailing whitespace or `)`.
/// Escapes are walked so that `\)`, `\ ` and the whitespace ending a hex escape (`\20 `)
/// stay inside the value.
fn unquoted_url_value(source: &str, start: usize, end: usize) -> Range<usize> {
    let bytes = &source.as_bytes()[..end];
    let mut i = start;
    while i < end && bytes[i] != b'(' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    i += 1;
    while i < end && is_css_whitespace(bytes[i]) {
        i += 1;
    }
    let value_start = i.min(end);
    while i < end {
        match bytes[i] {
            b'\\' => {
                i += 1;
                let hex_start = i;
                while i < end && i - hex_start < 6 && bytes[i].is_ascii_hexdigit() {
                    i += 1;
                }
                if i > hex_start {
                    if bytes[i..].starts_with(b"\r\n") {
                        i += 2;
                    } else if i < end && is_css_whitespace(bytes[i]) {
                        i += 1;
                    }
                } else {
                    // Any other escaped character, however many bytes it takes.
                    i += source[i.min(end)..end]
                        .chars()
                        .next()
                        .map_or(0, char::len_utf8);
                }
            }
            b')' => break,
            b if is_css_whitespace(b) => break,
            _ => i += 1,
        }
    }
    value_start..i.min(end)
}

/// The body of a string token spanning `start..end`, without its quotes. An unterminated string
/// (at the end of the input) runs to `end`.
fn string_body(source: &str, start: usize, end: usize) -> Range<usize> {
    let bytes = source.as_bytes();
    let quote = bytes[start];
    let mut i = start + 1;
    while i < end {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return start + 1..i,
            _ => i += 1,
        }
    }
    start + 1..end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::text_ref::splice;
    use crate::scan::text_ref::testkit::{self, raw};

    /// The scan of `source`, its invariants checked (and no reference is empty).
    fn scan_checked(source: &str) -> Vec<TextRef> {
        let refs = testkit::check(source, scan_css(source));
        assert!(refs.iter().all(|r| !r.value.is_empty()), "{refs:?}");
        refs
    }

    fn values(source: &str) -> Vec<String> {
        scan_checked(source).into_iter().map(|r| r.value).collect()
    }

    #[test]
    fn unquoted_url() {
        let src = "a { background: url(img/x.png) no-repeat }";
        let refs = scan_checked(src);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].value, "img/x.png");
        assert_eq!(raw(src, &refs[0]), "img/x.png");
        assert_eq!(refs[0].context, TextContext::CssUnquotedUrl);
        assert_eq!((refs[0].line, refs[0].column), (1, 21));
    }

    #[test]
    fn unquoted_url_with_inner_whitespace_and_uppercase_name() {
        let src = "a{b:URL(  x.png\t\n)}";
        let refs = scan_checked(src);
        assert_eq!(refs.len(), 1);
        assert_eq!(raw(src, &refs[0]), "x.png");
    }

    #[test]
    fn quoted_urls_both_quotes() {
        let src = "a{b:url( \"x.png\" ); c:url('y y.png')}";
        let refs = scan_checked(src);
        assert_eq!(values(src), ["x.png", "y y.png"]);
        assert_eq!(refs[0].context, TextContext::CssString('"'));
        assert_eq!(refs[1].context, TextContext::CssString('\''));
        assert_eq!(raw(src, &refs[0]), "x.png");
        assert_eq!(raw(src, &refs[1]), "y y.png");
    }

    #[test]
    fn escapes_are_resolved_and_spans_cover_the_raw_text() {
        let src = r#"a{b:url(a\ b\28 1\29 .png); c:url("q\"uo\74 e.png"); d:url(\)x)}"#;
        let refs = scan_checked(src);
        assert_eq!(values(src), ["a b(1).png", "q\"uote.png", ")x"]);
        assert_eq!(raw(src, &refs[0]), r"a\ b\28 1\29 .png");
        assert_eq!(raw(src, &refs[1]), r#"q\"uo\74 e.png"#);
        assert_eq!(raw(src, &refs[2]), r"\)x");
    }

    #[test]
    fn hex_escape_consumes_one_trailing_whitespace_inside_unquoted_url() {
        let src = "a{b:url(x\\20 ) c:url(y\\41\r\n)}";
        let refs = scan_checked(src);
        assert_eq!(values(src), ["x ", "yA"]);
        assert_eq!(raw(src, &refs[0]), "x\\20 ");
        assert_eq!(raw(src, &refs[1]), "y\\41\r\n");
    }

    #[test]
    fn escaped_function_name_is_still_url() {
        let src = r"a{b:u\72l(x.png)}";
        let refs = scan_checked(src);
        assert_eq!(values(src), ["x.png"]);
        assert_eq!(raw(src, &refs[0]), "x.png");
    }

    #[test]
    fn imports_in_every_form() {
        let src = "@import \"a.css\";\n@import 'b.css' screen;\n@import url(c.css);\n\
                   @import url('d.css') layer(base) supports(display: grid);\n@IMPORT /* c */ \"e.css\";";
        let refs = scan_checked(src);
        assert_eq!(values(src), ["a.css", "b.css", "c.css", "d.css", "e.css"]);
        assert_eq!(refs[0].context, TextContext::CssString('"'));
        assert_eq!(refs[1].context, TextContext::CssString('\''));
        assert_eq!(refs[2].context, TextContext::CssUnquotedUrl);
        assert_eq!((refs[4].line, refs[4].column), (5, 18));
    }

    #[test]
    fn strings_that_are_not_urls_are_left_alone() {
        let src = r#"@charset "utf-8";
            @namespace svg "http://www.w3.org/2000/svg";
            a[href="x.png"]::after { content: "url(x.png)"; font-family: "y.woff"; }
            @import "real.css";
            b { quotes: "a.png" "b.png" }"#;
        assert_eq!(values(src), ["real.css"]);
    }

    #[test]
    fn only_the_first_string_after_import_is_the_url() {
        assert_eq!(values("@import \"a.css\" \"b.css\";"), ["a.css"]);
        assert_eq!(
            values("@import; x { content: \"no.css\" }"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn image_set_strings_and_urls() {
        let src = "a { background-image: image-set(\"a.png\" 1x, url(b.png) 2x, 'c.avif' type(\"image/avif\"));\n\
                   b { background: -webkit-image-set(url(\"d.png\") 1x, \"e.png\" 2x) }";
        let refs = scan_checked(src);
        assert_eq!(values(src), ["a.png", "b.png", "c.avif", "d.png", "e.png"]);
        assert_eq!(refs[2].context, TextContext::CssString('\''));
    }

    #[test]
    fn font_face_src_list_with_format_and_local() {
        let src = "@font-face {\n  font-family: \"Icons\";\n  src: url(icons.eot);\n  \
                   src: local(\"Icons Regular\"), local(Icons),\n    url(\"icons.eot?#iefix\") format(\"embedded-opentype\"),\n    \
                   url(icons.woff2) format(\"woff2\"), url('icons.svg#icons') format('svg');\n}";
        let refs = scan_checked(src);
        assert_eq!(
            values(src),
            [
                "icons.eot",
                "icons.eot?#iefix",
                "icons.woff2",
                "icons.svg#icons"
            ]
        );
        assert_eq!((refs[1].line, refs[1].column), (5, 10));
    }

    #[test]
    fn fragments_queries_and_foreign_urls_are_returned_as_written() {
        let src = "a{b:url(x.svg%23frag);c:url(y.png?v=1#z);d:url(data:image/png;base64,iVBOR==);\
                   e:url(\"https://cdn.example/f.png\");f:url(//cdn.example/g.png)}";
        assert_eq!(
            values(src),
            [
                "x.svg%23frag",
                "y.png?v=1#z",
                "data:image/png;base64,iVBOR==",
                "https://cdn.example/f.png",
                "//cdn.example/g.png"
            ]
        );
    }

    #[test]
    fn data_uri_with_quotes_and_parentheses_inside_a_string() {
        let src = r#"a{b:url("data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'><path d='M0 0(1)'/></svg>")}"#;
        let refs = scan_checked(src);
        assert_eq!(refs.len(), 1);
        assert!(refs[0].value.starts_with("data:image/svg+xml,<svg"));
        assert_eq!(raw(src, &refs[0]), refs[0].value);
    }

    #[test]
    fn nothing_inside_comments() {
        let src = "/* a { background: url(x.png) } @import \"y.css\"; */\n\
                   a { /* url(z.png) */ color: red } /* unterminated url(w.png)";
        assert_eq!(values(src), Vec::<String>::new());
    }

    #[test]
    fn source_mapping_url_comments() {
        let src = "a{}\n/*# sourceMappingURL=app.css.map */\n/*@ sourceMappingURL=old.map*/";
        let refs = scan_checked(src);
        assert_eq!(values(src), ["app.css.map", "old.map"]);
        assert_eq!(refs[0].context, TextContext::Comment);
        assert_eq!(raw(src, &refs[0]), "app.css.map");
        assert_eq!((refs[0].line, refs[0].column), (2, 22));
        assert_eq!(raw(src, &refs[1]), "old.map");
    }

    #[test]
    fn source_mapping_url_inside_a_string_or_malformed_is_not_a_comment() {
        let src = "a::after { content: \"/*# sourceMappingURL=no.map */\" }\n\
                   /* see sourceMappingURL=no2.map */\n/*# sourceMappingURL=a.map trailing words */";
        assert_eq!(values(src), Vec::<String>::new());
    }

    #[test]
    fn style_attribute_declaration_list() {
        let src = "background: url(a.png) no-repeat; color: red; --icon: url('b.svg'); mask: image-set('c.png' 1x)";
        assert_eq!(values(src), ["a.png", "b.svg", "c.png"]);
    }

    #[test]
    fn nested_rules() {
        let src = "@media (min-width: 1px) { @supports (display: grid) { a { & b { background: url(deep.png) } } } }\n\
                   @layer x { @import \"not-top-level-but-harmless.css\"; }";
        assert_eq!(values(src), ["deep.png", "not-top-level-but-harmless.css"]);
    }

    #[test]
    fn src_function_is_a_url() {
        assert_eq!(
            values("a{b:src(\"x.png\" crossorigin(anonymous))}"),
            ["x.png"]
        );
    }

    #[test]
    fn empty_urls_are_skipped() {
        assert_eq!(
            values("a{b:url();c:url('');d:url(  )} @import \"\";"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn bad_urls_and_bad_strings_are_skipped() {
        // A space inside an unquoted url and a newline inside a string make invalid tokens.
        assert_eq!(values("a{b:url(a b.png);d:url(ok.png)}"), ["ok.png"]);
        assert_eq!(
            values("a{c:url(\"x\ny.png\")}\nb{d:url(ok.png)}"),
            ["ok.png"]
        );
        // After the bad string, `");…` is (as browsers read it) another, unterminated, string
        // inside the same url(): not the URL.
        assert_eq!(
            values("a{c:url(\"x\ny.png\");d:url(ok.png)}"),
            Vec::<String>::new()
        );
        // `url(` not followed by whitespace and a quote is an unquoted url, where `"` is invalid.
        assert_eq!(values("a{b:url(/**/\"x.png\")}"), Vec::<String>::new());
        assert_eq!(values("a{b:url(x \"y.png\")}"), Vec::<String>::new());
    }

    #[test]
    fn unterminated_input_is_reported_up_to_the_end() {
        let src = "a{b:url(x.png";
        let refs = scan_checked(src);
        assert_eq!(values(src), ["x.png"]);
        assert_eq!(refs[0].span, 8..13);
        let src = "@import \"y.css";
        assert_eq!(scan_checked(src)[0].span, 9..14);
        let src = "@import \"y.css\\";
        assert_eq!(raw(src, &scan_checked(src)[0]), "y.css\\");
        assert_eq!(values("/*# sourceMappingURL=z.map"), ["z.map"]);
    }

    #[test]
    fn line_and_column_count_characters() {
        let src = "/* é */\na { b: url(ü.png) }\n\n  c { d: url('ü2.png') }";
        let refs = scan_checked(src);
        assert_eq!((refs[0].line, refs[0].column), (2, 12));
        assert_eq!((refs[1].line, refs[1].column), (4, 15));
    }

    #[test]
    fn splicing_every_reference_with_its_own_value_reproduces_the_source() {
        let src = "@import 'a.css';\n@import url(b.css);\n/*# sourceMappingURL=s.map */\n\
                   a { b: url( c.png ); c: url(\"d.png\"); e: image-set('e.png' 1x, url(f.png) 2x) }\n\
                   @font-face { src: url(g.eot?#iefix) format('eot'), local('G'), url(h.svg%23h) }";
        let refs = scan_checked(src);
        assert_eq!(refs.len(), 9);
        testkit::assert_splices_back(src, &refs);
    }

    #[test]
    fn rewriting_changes_only_the_values() {
        let src = "@import 'a.css';\na { b: url(x.png); c: url(\"y.png\") } /* url(x.png) */\n/*# sourceMappingURL=a.css.map */";
        let refs = scan_checked(src);
        let replacements = refs
            .iter()
            .map(|r| {
                let (stem, ext) = r.value.rsplit_once('.').unwrap();
                (r, format!("{stem}.0123abcd.{ext}"))
            })
            .collect();
        assert_eq!(
            splice(src, replacements),
            "@import 'a.0123abcd.css';\na { b: url(x.0123abcd.png); c: url(\"y.0123abcd.png\") } /* url(x.png) */\n\
             /*# sourceMappingURL=a.css.0123abcd.map */"
        );
    }

    #[test]
    fn rewritten_values_needing_escapes_read_back_as_themselves() {
        let src = "a { b: url(x.png); c: url('y.png') } @import \"z.css\";";
        let refs = scan_checked(src);
        testkit::assert_reads_back(src, &refs, &["a b(1).png", "it's.png", "q\"\\.css"], values);
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let mut src = "(".repeat(100_000);
        src.push_str("url(x.png)");
        src.push_str(&")".repeat(100_000));
        src.push_str(" a { b: url(after.png) }");
        assert_eq!(values(&src), ["after.png"]);
        // Right after a skipped block, positions are still exact.
        let src = format!("{}(x)'s'url(y.png){}", "(".repeat(300), ")".repeat(300));
        assert_eq!(values(&src), Vec::<String>::new());
        let src = format!(
            "{}(x)url(y.png){}",
            "(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        );
        let refs = scan_checked(&src);
        assert_eq!(values(&src), ["y.png"]);
        assert_eq!(raw(&src, &refs[0]), "y.png");
        let shallow = format!("{}url(in.png){}", "[".repeat(50), "]".repeat(50));
        assert_eq!(values(&shallow), ["in.png"]);
    }

    #[test]
    fn garbage_never_panics() {
        const PIECES: &[&str] = &[
            "url(",
            "url(\"",
            ")",
            "(",
            "'",
            "\"",
            "\\",
            "\\28 ",
            "/*",
            "*/",
            "/*# sourceMappingURL=",
            "@import",
            " ",
            "\n",
            "\r\n",
            "{",
            "}",
            "[",
            "]",
            ";",
            ":",
            ",",
            "x.png",
            "é",
            "\u{0}",
            "\u{feff}",
            "image-set(",
            "-->",
            "<!--",
            "#",
            "%23",
            "\u{1F600}",
            "\\\n",
            "\x0c",
        ];
        testkit::garbage(PIECES, 0x2545_f491_4f6c_dd1d, 3000, 40, |src| {
            scan_checked(src);
        });
    }

    #[test]
    fn a_large_minified_input_is_scanned_whole() {
        let rule =
            "a{background:url(img/a.png) no-repeat;content:\"url(no.png)\"}/* url(no.png) */";
        let src = rule.repeat(1 << 20 >> 7);
        let refs = scan_css(&src);
        assert_eq!(refs.len(), 1 << 20 >> 7);
        assert_eq!(refs.last().map(|r| r.line), Some(1));
    }
}
