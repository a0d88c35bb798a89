//! The reference record of a generation (`.assetc/generations/<id>.refs.json`, never
//! served): each source file's own SHA-256 and size before any reference was rewritten, and
//! every reference it makes to another file with its `line:column` in the source. What
//! `assetc explain` and `assetc report` need beyond the manifest, kept beside the
//! generation's manifest so that the public manifest schema stays at version 1.

use std::collections::BTreeMap;

use assetc_core::generations::STATE_DIR;
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Serialize, Serializer};

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

    /// Writes the record whose files `files` yields, in sorted order, without collecting
    /// it: the same bytes as [`RefsRecord::write_json`] of the collected record. A build's
    /// record is made this way, one file at a time (at 100,000 files the collected record
    /// was 25 MB, made beside the manifest at the build's peak).
    pub fn write_files_json<'a, I>(files: I, mut out: impl std::io::Write) -> std::io::Result<()>
    where
        I: Iterator<Item = (&'a str, Source)>,
    {
        let record = Streamed(std::cell::Cell::new(Some(files)));
        serde_json::to_writer_pretty(&mut out, &record)?;
        out.write_all(b"\n")
    }

    /// The record in `bytes`, or None when it is not one this version reads.
    pub fn from_json(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(bytes)
            .ok()
            .filter(|r| r.version == REFS_VERSION)
    }
}

/// A record serialised from an iterator over its files, as `RefsRecord`'s derived
/// `Serialize` does from its map: the same struct, fields and order.
struct Streamed<I>(std::cell::Cell<Option<I>>);

impl<'a, I: Iterator<Item = (&'a str, Source)>> Serialize for Streamed<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Files<'s, I>(&'s std::cell::Cell<Option<I>>);
        impl<'a, I: Iterator<Item = (&'a str, Source)>> Serialize for Files<'_, I> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let files = self.0.take().expect("a streamed record is written once");
                serializer.collect_map(files)
            }
        }
        let mut record = serializer.serialize_struct("RefsRecord", 2)?;
        record.serialize_field("files", &Files(&self.0))?;
        record.serialize_field("version", &REFS_VERSION)?;
        record.end()
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

    #[test]
    fn a_streamed_record_is_byte_identical_to_the_collected_one() {
        let mut record = RefsRecord {
            version: REFS_VERSION,
            ..RefsRecord::default()
        };
        let streamed = |record: &RefsRecord| {
            let mut out = Vec::new();
            let files = record.files.iter().map(|(k, v)| (k.as_str(), v.clone()));
            RefsRecord::write_files_json(files, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let collected = |record: &RefsRecord| String::from_utf8(record.to_json()).unwrap();
        assert_eq!(streamed(&record), collected(&record));
        let at = |line, column, target: &str| Position {
            column,
            line,
            target: target.into(),
        };
        record.files.insert(
            "index.html".into(),
            Source {
                references: vec![at(3, 9, "css/site.css"), at(4, 1, "js/\"app\".js")],
                sha256: "cd".into(),
                size: 120,
            },
        );
        record.files.insert(
            "css/site.css".into(),
            Source {
                references: Vec::new(),
                sha256: "ab".into(),
                size: 2,
            },
        );
        assert_eq!(streamed(&record), collected(&record));
    }
}
