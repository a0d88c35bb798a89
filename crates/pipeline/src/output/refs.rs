//! The reference record of a generation (`.assetc/generations/<id>.refs.json`, never
//! served): each source file's own SHA-256 and size before any reference was rewritten, and
//! every reference it makes to another file with its `line:column` in the source. What
//! `assetc explain` and `assetc report` need beyond the manifest, kept beside the
//! generation's manifest so that the public manifest schema stays at version 1.

use std::collections::BTreeMap;

use assetc_core::generations::STATE_DIR;
use serde::{Deserialize, Serialize};

/// The schema version of the reference record; a record of another version is not read.
pub const REFS_VERSION: u32 = 1;

/// Where a generation's reference record is kept, relative to the build root.
pub fn refs_path(id: &str) -> String {
    format!("{STATE_DIR}/generations/{id}.refs.json")
}

/// One generation's sources, by logical path. Sorted keys, like the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefsRecord {
    pub files: BTreeMap<String, Source>,
    /// [`REFS_VERSION`].
    pub version: u32,
}

/// One source file as read, before its references were rewritten.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Every reference that resolved to a file of the build, in document order.
    pub references: Vec<Position>,
    /// SHA-256 of the source bytes, lowercase hex.
    pub sha256: String,
    /// Size of the source bytes.
    pub size: u64,
}

/// Where a reference is written: 1-based line and column (in characters) of the URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub column: u32,
    pub line: u32,
    /// The logical path the reference resolved to.
    pub target: String,
}

impl RefsRecord {
    /// The canonical bytes: pretty JSON with sorted keys and a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_json(&mut out)
            .expect("a reference record serialises");
        out
    }

    /// Writes the canonical bytes ([`RefsRecord::to_json`]) to `out` without holding them.
    pub fn write_json(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n")
    }

    /// The record in `bytes`, or None when it is not one this version reads.
    pub fn from_json(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(bytes)
            .ok()
            .filter(|r| r.version == REFS_VERSION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_versions() {
        let mut record = RefsRecord {
            version: REFS_VERSION,
            ..RefsRecord::default()
        };
        record.files.insert(
            "css/site.css".into(),
            Source {
                references: vec![Position {
                    column: 7,
                    line: 14,
                    target: "fonts/body.woff2".into(),
                }],
                sha256: "ab".into(),
                size: 2,
            },
        );
        let json = record.to_json();
        assert_eq!(RefsRecord::from_json(&json), Some(record));
        let other = String::from_utf8(json)
            .unwrap()
            .replace("\"version\": 1", "\"version\": 2");
        assert_eq!(RefsRecord::from_json(other.as_bytes()), None);
        assert_eq!(
            refs_path("abc"),
            ".assetc/generations/abc.refs.json".to_owned()
        );
    }
}
