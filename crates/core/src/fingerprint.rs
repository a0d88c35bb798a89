//! Content fingerprints: SHA-256 digests, the short base64url fingerprint that goes into a
//! file name, and the strong ETag derived from the same digest.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest as _, Sha256, Sha384};

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

/// Whether a file's Subresource Integrity is a SHA-384 of its bytes: scripts and
/// stylesheets, the subresources pages check with `integrity` (`--sri`, import maps, the
/// template helpers' tags), get the hash the SRI specification's examples and most tooling
/// use. Every other file's is the `sha256-` of the digest the build has already computed:
/// as valid for `fetch(url, {integrity})` or a preload, and free, where a second hash of
/// the images and fonts (four fifths of a large tree's bytes) was a fifth of a cold
/// build's CPU.
pub fn integrity_is_sha384(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/javascript") || essence.eq_ignore_ascii_case("text/css")
}

/// Subresource Integrity from a SHA-384: `sha384-<standard base64>`.
pub fn integrity_sha384(sha384: &[u8]) -> String {
    format!("sha384-{}", STANDARD.encode(sha384))
}

/// Subresource Integrity from a SHA-256: `sha256-<standard base64>`.
pub fn integrity_sha256(sha256: &Digest) -> String {
    format!("sha256-{}", STANDARD.encode(sha256))
}

/// Subresource Integrity of a file's served `bytes`, whose SHA-256 is `digest`, by
/// [`integrity_is_sha384`].
pub fn integrity(content_type: &str, digest: &Digest, bytes: &[u8]) -> String {
    if integrity_is_sha384(content_type) {
        integrity_sha384(&Sha384::digest(bytes))
    } else {
        integrity_sha256(digest)
    }
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
    fn integrity_is_sha384_for_scripts_and_stylesheets_and_sha256_of_the_digest_otherwise() {
        // The SRI specification's example: the sha384 of `alert('Hello, world.');`.
        let script = b"alert('Hello, world.');";
        assert_eq!(
            integrity("text/javascript; charset=utf-8", &sha256(script), script),
            "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO"
        );
        assert!(integrity("Text/CSS", &sha256(b"a{}"), b"a{}").starts_with("sha384-"));
        // `printf '' | openssl dgst -sha256 -binary | base64`
        assert_eq!(
            integrity("image/png", &sha256(b""), b""),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        for other in [
            "application/json",
            "image/svg+xml",
            "text/html; charset=utf-8",
        ] {
            assert!(!integrity_is_sha384(other), "{other}");
        }
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
