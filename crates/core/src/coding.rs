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

/// A dictionary-compressed coding of RFC 9842 (§4 `dcb`, §5 `dcz`): a delta against an
/// earlier version of the same resource that the client holds. Not a [`Coding`]: it is
/// only chosen when the request names the dictionary (`Available-Dictionary`, §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DictCoding {
    Dcb,
    Dcz,
}

impl DictCoding {
    /// Both, in the server's order of preference (dcb is usually a little smaller).
    pub const ALL: [DictCoding; 2] = [DictCoding::Dcb, DictCoding::Dcz];

    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            DictCoding::Dcb => "dcb",
            DictCoding::Dcz => "dcz",
        }
    }

    pub fn from_token(token: &[u8]) -> Option<DictCoding> {
        if token.eq_ignore_ascii_case(b"dcb") {
            Some(DictCoding::Dcb)
        } else if token.eq_ignore_ascii_case(b"dcz") {
            Some(DictCoding::Dcz)
        } else {
            None
        }
    }

    /// The manifest's variant key of a delta: `dcb:<dictionary SHA-256, lowercase hex>`.
    pub fn key(self, dictionary_sha256: &str) -> String {
        format!("{}:{dictionary_sha256}", self.token())
    }

    /// The coding and dictionary SHA-256 (hex) of a variant key written by [`Self::key`].
    pub fn parse_key(key: &str) -> Option<(DictCoding, &str)> {
        let (token, sha) = key.split_once(':')?;
        let coding = match token {
            "dcb" => DictCoding::Dcb,
            "dcz" => DictCoding::Dcz,
            _ => return None,
        };
        let hex = sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        hex.then_some((coding, sha))
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

    #[test]
    fn delta_keys_round_trip_and_reject_other_shapes() {
        let sha = "ab".repeat(32);
        for c in DictCoding::ALL {
            assert_eq!(DictCoding::parse_key(&c.key(&sha)), Some((c, sha.as_str())));
            assert_eq!(
                DictCoding::from_token(c.token().to_uppercase().as_bytes()),
                Some(c)
            );
        }
        assert_eq!(DictCoding::parse_key("br"), None);
        assert_eq!(
            DictCoding::parse_key(&format!("dcb:{}", "AB".repeat(32))),
            None
        );
        assert_eq!(DictCoding::parse_key("dcz:abc"), None);
        assert_eq!(DictCoding::parse_key(&format!("gzip:{sha}")), None);
    }
}
