//! The manifest model: `assetc-manifest.json`, the contract between a build and everything
//! that reads it (the server, `verify`, and backends in any language). Schema: see
//! ARCHITECTURE.md, "The manifest".

use std::borrow::{Borrow, Cow};
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
    #[serde(deserialize_with = "crate::sorted_map::deserialize")]
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
    /// Subresource Integrity of the identity bytes: `sha384-<base64>` for scripts and
    /// stylesheets, `sha256-<base64>` of `sha256` for the rest
    /// ([`crate::fingerprint::integrity_is_sha384`]).
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
        let parsed = serde_json::from_slice::<Self>(bytes);
        if let Ok(manifest) = &parsed {
            if manifest.version == MANIFEST_VERSION {
                return parsed.map_err(Into::into);
            }
        }
        check_version(bytes)?;
        Ok(parsed?)
    }
}

/// A manifest read without copying its text: every string borrows from the JSON bytes
/// (owned only when it has an escape), for a reader that keeps little of it. At 100,000
/// files the owned [`Manifest`] is 700,000 allocations and twice the JSON's size; this is a
/// tenth of that. The same schema, checked the same way ([`Manifest::from_json`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestRef<'a> {
    #[serde(borrow)]
    pub base_url: Text<'a>,
    #[serde(borrow)]
    pub entries: Entries<'a>,
    pub version: u32,
}

/// The entries of a [`ManifestRef`] by logical path, in order. The build writes the keys
/// sorted, so reading them costs one comparison per key where a `BTreeMap` made a tree
/// insert of each (5 % of a 100,000-file server start-up); keys out of order are sorted,
/// and of equal keys the last wins, as in a map.
#[derive(Debug, Default)]
pub struct Entries<'a>(Vec<(Text<'a>, EntryRef<'a>)>);

/// What iterating [`Entries`] yields: a logical path and its entry.
pub type EntryItem<'s, 'a> = (&'s Text<'a>, &'s EntryRef<'a>);

impl<'a> Entries<'a> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entry of a logical path.
    pub fn get(&self, logical: &str) -> Option<&EntryRef<'a>> {
        self.0
            .binary_search_by(|(key, _)| key.as_str().cmp(logical))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// The index of a logical path's entry in [`Entries::iter`]'s order.
    pub fn index_of(&self, logical: &str) -> Option<usize> {
        self.0
            .binary_search_by(|(key, _)| key.as_str().cmp(logical))
            .ok()
    }

    /// Every entry, by logical path in order.
    pub fn iter(&self) -> impl Iterator<Item = EntryItem<'_, 'a>> {
        self.0.iter().map(|(key, entry)| (key, entry))
    }

    /// The logical paths, in order.
    pub fn keys(&self) -> impl Iterator<Item = &Text<'a>> {
        self.0.iter().map(|(key, _)| key)
    }
}

impl<'a> std::ops::Index<&str> for Entries<'a> {
    type Output = EntryRef<'a>;
    /// The entry of a logical path the manifest has (panics on another, as a map does).
    fn index(&self, logical: &str) -> &EntryRef<'a> {
        self.get(logical).expect("a logical path of the manifest")
    }
}

impl<'s, 'a> IntoIterator for &'s Entries<'a> {
    type Item = EntryItem<'s, 'a>;
    type IntoIter = std::iter::Map<
        std::slice::Iter<'s, (Text<'a>, EntryRef<'a>)>,
        fn(&'s (Text<'a>, EntryRef<'a>)) -> EntryItem<'s, 'a>,
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(key, entry)| (key, entry))
    }
}

/// Fewer bytes of JSON than any entry the build writes takes (its key and its required
/// fields with a 64-digit `sha256`, pretty-printed: about 600 bytes at 100,000 files). The
/// capacity it gives is mostly address space: pages nothing is written to are never
/// touched. A manifest with denser entries only makes the vector grow, as without it.
const MIN_ENTRY_JSON: usize = 160;

thread_local! {
    /// How many entries the manifest being parsed on this thread may have at most (its
    /// length over [`MIN_ENTRY_JSON`]), set by [`ManifestRef::from_json`]; 0 elsewhere.
    static ENTRIES_HINT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<Entries<'a>>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of logical paths to entries")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let hint = map.size_hint().unwrap_or(ENTRIES_HINT.get());
                let mut entries: Vec<(Text<'a>, EntryRef<'a>)> = Vec::with_capacity(hint);
                let mut sorted = true;
                while let Some((key, entry)) = map.next_entry::<Text<'a>, EntryRef<'a>>()? {
                    sorted &= entries.last().is_none_or(|(last, _)| *last < key);
                    entries.push((key, entry));
                }
                if !sorted {
                    // Reversed, then sorted stably: the last of equal keys comes first and
                    // is the one kept.
                    entries.reverse();
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    entries.dedup_by(|later, kept| later.0 == kept.0);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

/// [`Entry`], borrowed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRef<'a> {
    #[serde(borrow)]
    pub content_type: Text<'a>,
    #[serde(borrow)]
    pub etag: Text<'a>,
    pub immutable: bool,
    #[serde(default, borrow)]
    pub integrity: Text<'a>,
    pub last_modified: i64,
    #[serde(borrow)]
    pub path: Text<'a>,
    /// The JSON array as written, parsed by [`EntryRef::references`]: most readers never
    /// look at it, and it is a third of the manifest.
    #[serde(borrow)]
    pub references: &'a serde_json::value::RawValue,
    #[serde(borrow)]
    pub sha256: Text<'a>,
    pub size: u64,
    #[serde(default, borrow)]
    pub variants: BTreeMap<Text<'a>, VariantRef<'a>>,
}

/// [`Variant`], borrowed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantRef<'a> {
    #[serde(borrow)]
    pub etag: Text<'a>,
    #[serde(borrow)]
    pub path: Text<'a>,
    #[serde(borrow)]
    pub sha256: Text<'a>,
    pub size: u64,
}

/// A JSON string of a [`ManifestRef`]: borrowed from the bytes, or owned when it had an
/// escape. (serde borrows a bare `Cow` field only, not one inside a map or a `Vec`.)
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for Text<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl<'a> EntryRef<'a> {
    /// Logical paths of the files this one references.
    pub fn references(&self) -> Result<Vec<Text<'a>>, ManifestError> {
        Ok(serde_json::from_str(self.references.get())?)
    }

    /// The owned [`Entry`].
    pub fn to_entry(&self) -> Result<Entry, ManifestError> {
        let owned = |t: &Text<'_>| t.as_str().to_owned();
        Ok(Entry {
            content_type: owned(&self.content_type),
            etag: owned(&self.etag),
            immutable: self.immutable,
            integrity: owned(&self.integrity),
            last_modified: self.last_modified,
            path: owned(&self.path),
            references: serde_json::from_str(self.references.get())?,
            sha256: owned(&self.sha256),
            size: self.size,
            variants: self
                .variants
                .iter()
                .map(|(coding, v)| {
                    let variant = Variant {
                        etag: owned(&v.etag),
                        path: owned(&v.path),
                        sha256: owned(&v.sha256),
                        size: v.size,
                    };
                    (owned(coding), variant)
                })
                .collect(),
        })
    }
}

impl<'a> ManifestRef<'a> {
    /// Parses a manifest of this version, borrowing its strings from `bytes`; errors as
    /// [`Manifest::from_json`]'s.
    pub fn from_json(bytes: &'a [u8]) -> Result<Self, ManifestError> {
        // A JSON map gives no length up front: without a hint the entries' vector grows by
        // doubling, copying and faulting in about twice its final size (50 MB at 100,000
        // files).
        ENTRIES_HINT.set(bytes.len() / MIN_ENTRY_JSON);
        let parsed = serde_json::from_slice::<Self>(bytes);
        ENTRIES_HINT.set(0);
        if let Ok(manifest) = &parsed {
            if manifest.version == MANIFEST_VERSION {
                return parsed.map_err(Into::into);
            }
        }
        check_version(bytes)?;
        Ok(parsed?)
    }
}

/// The version error for a manifest of another version (or, when there is no readable
/// version, the JSON error).
fn check_version(bytes: &[u8]) -> Result<(), ManifestError> {
    #[derive(Deserialize)]
    struct Versioned {
        version: u32,
    }
    let Versioned { version } = serde_json::from_slice(bytes)?;
    if version != MANIFEST_VERSION {
        return Err(ManifestError::Version { found: version });
    }
    Ok(())
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
    fn borrowed_entries_are_in_order_and_the_last_of_equal_keys_wins() {
        let entry = |size: u64| {
            let mut m = sample();
            m.entries.get_mut("css/a.css").unwrap().size = size;
            let json = String::from_utf8(m.to_json()).unwrap();
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            v["entries"]["css/a.css"].to_string()
        };
        let json = format!(
            r#"{{"base_url":"/","version":{MANIFEST_VERSION},"entries":{{"b":{},"a":{},"c":{},"a":{}}}}}"#,
            entry(1),
            entry(2),
            entry(3),
            entry(4)
        );
        let m = ManifestRef::from_json(json.as_bytes()).unwrap();
        let keys: Vec<&str> = m.entries.keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        let sizes: Vec<u64> = m.entries.iter().map(|(_, e)| e.size).collect();
        assert_eq!(sizes, [4, 1, 3]);
        assert_eq!(m.entries.get("c").map(|e| e.size), Some(3));
        assert!(m.entries.get("d").is_none());
        // The build's own order is read as written.
        let json = sample().to_json();
        let m = ManifestRef::from_json(&json).unwrap();
        assert_eq!(m.entries.get("css/a.css").map(|e| e.size), Some(3));
    }

    #[test]
    fn a_borrowed_entry_made_owned_is_the_owned_parse() {
        let mut m = sample();
        let entry = m.entries.get_mut("css/a.css").unwrap();
        entry.integrity = "sha384-x".into();
        entry.variants.insert(
            "br".into(),
            Variant {
                etag: "\"b\"".into(),
                path: "css/a.F.css.br".into(),
                sha256: "11".into(),
                size: 2,
            },
        );
        entry.path = "css/a \"quoted\".css".into();
        let json = m.to_json();
        let borrowed = ManifestRef::from_json(&json).unwrap();
        let owned = Manifest::from_json(&json).unwrap();
        let made = borrowed.entries["css/a.css"].to_entry().unwrap();
        assert_eq!(made, owned.entries["css/a.css"]);
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

    #[test]
    fn the_borrowed_form_reads_the_same_and_refuses_the_same() {
        let mut m = sample();
        // An escaped string cannot be borrowed: owned, with the same value.
        m.entries.get_mut("css/a.css").unwrap().path = "css/a\"q\".F.css".into();
        let json = m.to_json();
        let r = ManifestRef::from_json(&json).unwrap();
        let (logical, e) = r.entries.iter().next().unwrap();
        let owned = &m.entries["css/a.css"];
        assert_eq!(logical.as_str(), "css/a.css");
        assert!(matches!(logical.0, Cow::Borrowed(_)));
        assert!(matches!(e.path.0, Cow::Owned(_)));
        assert_eq!(e.path.as_str(), owned.path);
        assert_eq!(e.references().unwrap()[0].as_str(), "img/x.png");
        assert_eq!(
            (e.size, e.immutable, e.last_modified),
            (3, true, 1_700_000_000)
        );
        let other = String::from_utf8(json.clone())
            .unwrap()
            .replace("\"version\": 1", "\"version\": 99");
        assert!(matches!(
            ManifestRef::from_json(other.as_bytes()),
            Err(ManifestError::Version { found: 99 })
        ));
        let unknown = String::from_utf8(json)
            .unwrap()
            .replace("\"size\": 3", "\"size\": 3, \"extra\": 1");
        assert!(Manifest::from_json(unknown.as_bytes()).is_err());
        assert!(ManifestRef::from_json(unknown.as_bytes()).is_err());
    }
}
