//! Content fingerprints: SHA-256 digests, the short base64url fingerprint that goes into a
//! file name, and the strong ETag derived from the same digest.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest as _, Sha256};

use crate::LogicalPath;

/// A SHA-256 digest.
pub type Digest = [u8; 32];

/// Characters of base64url in a fingerprint: 12 characters carry 72 bits. Names only
/// need to differ between versions of the same path, and even across 100,000 files kept
/// over many generations the chance of any collision stays below one in 10^12, while the
/// names stay short enough to read in a network panel.
pub const FINGERPRINT_LEN: usize = 12;

/// Characters of base64url in an ETag: 22 characters carry 132 bits, a strong validator
/// for every representation a build will ever have.
const ETAG_LEN: usize = 22;

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Digest {
    Sha256::digest(bytes).into()
}

/// Subresource Integrity for bytes whose SHA-384 is `digest`: `sha384-<standard base64>`.
pub fn integrity(sha384: &[u8]) -> String {
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha384)
    )
}

/// Lowercase hex of a digest, as the manifest records it.
pub fn hex(digest: &Digest) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // One allocation of the final size, rather than a `format!` per byte (200,000 of
    // these per 100,000-file build: the manifest's and the reference record's).
    let mut s = String::with_capacity(digest.len() * 2);
    for b in digest {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// The fingerprint put into a file name.
pub fn fingerprint(digest: &Digest) -> String {
    let mut s = URL_SAFE_NO_PAD.encode(digest);
    s.truncate(FINGERPRINT_LEN);
    s
}

/// The strong ETag (with its quotes) for a representation whose bytes have this digest.
pub fn strong_etag(digest: &Digest) -> String {
    let s = URL_SAFE_NO_PAD.encode(digest);
    format!("\"{}\"", &s[..ETAG_LEN])
}

/// `stem.<fp>.ext`: the fingerprint goes before the last extension
/// (`jquery.min.js` → `jquery.min.<fp>.js`); a name without one gets `.<fp>` appended.
pub fn fingerprinted_name(path: &LogicalPath, fingerprint: &str) -> LogicalPath {
    let name = path.file_name();
    let new_name = match name.rfind('.') {
        Some(i) if i > 0 && i + 1 < name.len() => {
            format!("{}.{fingerprint}{}", &name[..i], &name[i..])
        }
        _ => format!("{name}.{fingerprint}"),
    };
    path.with_file_name(&new_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(p: &str) -> String {
        fingerprinted_name(&LogicalPath::new(p).unwrap(), "FP").to_string()
    }

    #[test]
    fn integrity_is_standard_base64_of_sha384() {
        use sha2::Sha384;
        // SRI spec example: sha384 of `alert('Hello, world.');`
        let d = Sha384::digest(b"alert('Hello, world.');");
        assert_eq!(
            integrity(&d),
            "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO"
        );
    }

    #[test]
    fn hash_goes_before_the_last_extension() {
        assert_eq!(named("css/app.css"), "css/app.FP.css");
        assert_eq!(named("vendor/jquery.min.js"), "vendor/jquery.min.FP.js");
        assert_eq!(named("archive.tar.gz"), "archive.tar.FP.gz");
    }

    #[test]
    fn names_without_an_extension_get_it_appended() {
        assert_eq!(named("LICENSE"), "LICENSE.FP");
        assert_eq!(named("a/.hidden"), "a/.hidden.FP");
        assert_eq!(named("odd."), "odd..FP");
    }

    #[test]
    fn unicode_and_spaces_are_kept() {
        assert_eq!(named("img/social card.png"), "img/social card.FP.png");
        assert_eq!(named("fonts/日本語.woff2"), "fonts/日本語.FP.woff2");
    }

    #[test]
    fn fingerprint_and_etag_are_base64url_of_sha256() {
        let d = sha256(b"hello");
        // SHA-256("hello") = 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
        assert_eq!(
            hex(&d),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(fingerprint(&d), "LPJNul-wow4m");
        assert_eq!(fingerprint(&d).len(), FINGERPRINT_LEN);
        let etag = strong_etag(&d);
        assert_eq!(etag, "\"LPJNul-wow4m6Dsqxbninh\"");
        // RFC 9110 §8.8.3: etagc = %x21 / %x23-7E / obs-text.
        assert!(etag[1..etag.len() - 1]
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)));
    }
}
