//! Content codings of precompressed variants: their `Content-Encoding` tokens, the file
//! suffix each variant is stored under, and the order of preference among them.

/// A content-coding a build can hold a precompressed variant in, in order of preference
/// (the derived `Ord`): br, then zstd, then gzip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Coding {
    Br,
    Zstd,
    Gzip,
}

impl Coding {
    /// Every coding, in order of preference.
    pub const ALL: [Coding; 3] = [Coding::Br, Coding::Zstd, Coding::Gzip];

    /// The token sent in `Content-Encoding`, and the manifest's variant key.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    /// The suffix of the variant's file (`app.<fp>.js.br`).
    pub fn suffix(self) -> &'static str {
        match self {
            Coding::Br => ".br",
            Coding::Zstd => ".zst",
            Coding::Gzip => ".gz",
        }
    }

    /// The coding a token names, case-insensitively (RFC 9110 §8.4.1); `x-gzip` is gzip
    /// (§8.4.1.3).
    pub fn from_token(token: &[u8]) -> Option<Coding> {
        if token.eq_ignore_ascii_case(b"br") {
            Some(Coding::Br)
        } else if token.eq_ignore_ascii_case(b"zstd") {
            Some(Coding::Zstd)
        } else if token.eq_ignore_ascii_case(b"gzip") || token.eq_ignore_ascii_case(b"x-gzip") {
            Some(Coding::Gzip)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_preference_is_br_zstd_gzip() {
        for c in Coding::ALL {
            assert_eq!(
                Coding::from_token(c.token().to_uppercase().as_bytes()),
                Some(c)
            );
        }
        assert_eq!(Coding::from_token(b"x-gzip"), Some(Coding::Gzip));
        assert_eq!(Coding::from_token(b"deflate"), None);
        assert!(Coding::Br < Coding::Zstd && Coding::Zstd < Coding::Gzip);
    }
}
