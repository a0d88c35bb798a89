//! JavaScript string escapes (`\n`, `\x41`, `\u{1F600}`, line continuations), resolved to
//! the string's value, so a specifier is compared and resolved as the engine reads it.

use std::iter::Peekable;
use std::str::Chars;

/// The value of a string literal's (or substitution-free template's) body, with escapes
/// resolved; `None` when it has no string value (a lone surrogate, an escape a template forbids).
pub(super) fn decode(raw: &str, template: bool) -> Option<String> {
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
