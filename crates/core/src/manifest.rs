//! The manifest model: `assetc-manifest.json`, the contract between a build and everything
//! that reads it (the server, `verify`, and backends in any language). Schema: see
//! ARCHITECTURE.md, "The manifest".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The manifest's file name at the root of a build.
pub const MANIFEST_FILE_NAME: &str = "assetc-manifest.json";

/// The schema version this crate writes and reads. Readers refuse other versions.
pub const MANIFEST_VERSION: u32 = 1;

/// A whole build, keyed by logical path. Fields are declared in alphabetical order and
/// maps are `BTreeMap`s, so the JSON has sorted keys and is byte-identical for equal values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The prefix rewritten references were written under (`/` by default).
    pub base_url: String,
    /// Every served file, by logical path (the path in the source tree).
    pub entries: BTreeMap<String, Entry>,
    /// The schema version, [`MANIFEST_VERSION`].
    pub version: u32,
}

/// One source file as built.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// `Content-Type`, with the charset for text.
    pub content_type: String,
    /// Strong ETag over the served (identity) bytes, with its quotes.
    pub etag: String,
    /// Fingerprinted (cache forever) or an entry point (revalidate).
    pub immutable: bool,
    /// Subresource Integrity of the identity bytes (`sha384-<base64>`).
    #[serde(default)]
    pub integrity: String,
    /// When these exact bytes first appeared in a build, in seconds since the Unix epoch.
    pub last_modified: i64,
    /// The served path, relative to the build root (no leading `/`).
    pub path: String,
    /// Logical paths of the files this one references, sorted.
    pub references: Vec<String>,
    /// SHA-256 of the served bytes, lowercase hex.
    pub sha256: String,
    /// Size of the served bytes.
    pub size: u64,
    /// Precompressed representations by content-coding (`br`, `gzip`, `zstd`).
    #[serde(default)]
    pub variants: BTreeMap<String, Variant>,
}

/// A precompressed representation of an entry, stored beside it (`<path>.br`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Strong ETag over the encoded bytes: each representation has its own (RFC 9110 §8.8.3).
    pub etag: String,
    /// Served path of the encoded file, relative to the build root.
    pub path: String,
    /// SHA-256 of the encoded bytes, lowercase hex.
    pub sha256: String,
    /// Size of the encoded bytes.
    pub size: u64,
}

/// Why bytes are not a manifest this version can read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("not valid manifest JSON")]
    Json(#[from] serde_json::Error),
    #[error(
        "manifest version {found} is not supported (this assetc reads version {MANIFEST_VERSION})"
    )]
    Version { found: u32 },
}

impl Manifest {
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            entries: BTreeMap::new(),
            version: MANIFEST_VERSION,
        }
    }

    /// The canonical bytes: pretty JSON with sorted keys and a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_json(&mut out)
            .expect("a manifest always serialises");
        out
    }

    /// Writes the canonical bytes ([`Manifest::to_json`]) to `out` without holding them (60
    /// MB at 100,000 files).
    pub fn write_json(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n")
    }

    /// Parses a manifest of this version. The version is looked at again only when the
    /// whole parse fails or finds another version, so that a manifest of another schema
    /// gets the version error rather than a field error, and a good one (60 MB at
    /// 100,000 files) is parsed once.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ManifestError> {
        #[derive(Deserialize)]
        struct Versioned {
            version: u32,
        }
        let parsed = serde_json::from_slice::<Self>(bytes);
        if let Ok(manifest) = &parsed {
            if manifest.version == MANIFEST_VERSION {
                return parsed.map_err(Into::into);
            }
        }
        let Versioned { version } = serde_json::from_slice(bytes)?;
        if version != MANIFEST_VERSION {
            return Err(ManifestError::Version { found: version });
        }
        Ok(parsed?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let mut m = Manifest::new("/");
        m.entries.insert(
            "css/a.css".into(),
            Entry {
                content_type: "text/css; charset=utf-8".into(),
                etag: "\"abc\"".into(),
                immutable: true,
                last_modified: 1_700_000_000,
                path: "css/a.F.css".into(),
                references: vec!["img/x.png".into()],
                sha256: "00".into(),
                size: 3,
                ..Entry::default()
            },
        );
        m
    }

    #[test]
    fn json_keys_are_sorted_at_every_level() {
        let json = String::from_utf8(sample().to_json()).unwrap();
        let keys: Vec<&str> = json
            .lines()
            .filter_map(|l| {
                l.trim_start()
                    .strip_prefix('"')?
                    .split_once("\":")
                    .map(|(k, _)| k)
            })
            .collect();
        let top: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| ["base_url", "entries", "version"].contains(k))
            .collect();
        assert_eq!(top, ["base_url", "entries", "version"]);
        let entry_fields = &keys[3..13];
        let mut sorted = entry_fields.to_vec();
        sorted.sort_unstable();
        assert_eq!(entry_fields, sorted.as_slice());
        assert!(json.ends_with("}\n"));
    }

    #[test]
    fn round_trips_and_refuses_other_versions() {
        let m = sample();
        assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
        let other = String::from_utf8(m.to_json())
            .unwrap()
            .replace("\"version\": 1", "\"version\": 99");
        assert!(matches!(
            Manifest::from_json(other.as_bytes()),
            Err(ManifestError::Version { found: 99 })
        ));
        assert!(Manifest::from_json(b"{").is_err());
    }
}
