//! The publish plan, pure (no IO): what the build wants in the bucket (every key, its bytes
//! and its headers), compared with what the bucket holds, gives the uploads, the header
//! refreshes and the deletions, in the order that never leaves a page referencing a
//! missing object: fingerprinted files first, then pages, then the manifest.

use std::collections::{BTreeMap, BTreeSet};

use assetc_core::{Manifest, MANIFEST_FILE_NAME};
use serde::Serialize;

pub use crate::cli::Variants;

/// The manifest's content type, as `assetc serve` sends it.
const MANIFEST_CONTENT_TYPE: &str = "application/json";

/// The user metadata key (`x-amz-meta-sha256`) holding the SHA-256 of an object's bytes:
/// the one comparison of bytes, never sizes or mtimes.
pub const SHA256_METADATA: &str = "sha256";

/// What the bucket must answer for the headers a CDN forwards.
#[derive(Debug, Clone)]
pub struct Policy {
    pub cache_control_immutable: String,
    pub cache_control_revalidate: String,
    pub variants: Variants,
}

/// The headers an object must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Headers {
    pub cache_control: String,
    pub content_type: String,
    /// Only on a variant's own key, never on a plain key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
}

/// One object the build wants in the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Want {
    /// The object key, with the prefix.
    pub key: String,
    /// The file in the build directory holding its bytes, relative to the root.
    pub file: String,
    pub sha256: String,
    pub size: u64,
    pub headers: Headers,
    /// Fingerprinted: uploaded with `If-None-Match: *`, never overwritten with other bytes.
    pub create_only: bool,
}

/// What the bucket holds at a key, from a HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Remote {
    /// `x-amz-meta-sha256`, when an earlier publish set it.
    pub sha256: Option<String>,
    pub cache_control: Option<String>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    /// The store's ETag: a refresh copies the object onto itself only while it is still this.
    pub etag: Option<String>,
}

/// Why an object is uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The bucket has no such key.
    Missing,
    /// The key holds other bytes (or bytes of unknown SHA-256).
    BytesDiffer,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::BytesDiffer => "bytes differ",
        }
    }
}

/// What to do with one wanted object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Step {
    Upload {
        reason: Reason,
    },
    /// Same bytes, other headers: copied onto itself with the new headers, no bytes sent.
    Refresh {
        /// The headers that differ, by name.
        headers: Vec<&'static str>,
        #[serde(skip)]
        etag: Option<String>,
    },
    Skip,
}

/// One wanted object and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    #[serde(flatten)]
    pub want: Want,
    #[serde(flatten)]
    pub step: Step,
}

/// The whole publish, in its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Fingerprinted files (and their variant keys): first, create-only.
    pub assets: Vec<Action>,
    /// Entry points, logical paths (and their variant keys): only once every asset is up.
    pub pages: Vec<Action>,
    /// `assetc-manifest.json`: last, so a reader of it finds everything it lists.
    pub manifest: Action,
    /// Keys no kept generation lists (with `--delete`), removed after the pages are up.
    pub deletions: Vec<String>,
}

impl Plan {
    /// Every action, in the order they run.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.assets
            .iter()
            .chain(&self.pages)
            .chain(std::iter::once(&self.manifest))
    }
}

/// `prefix` joined to a path of the build (`""` or `site/v1`).
pub fn key(prefix: &str, path: &str) -> String {
    if prefix.is_empty() {
        path.to_owned()
    } else {
        format!("{prefix}/{path}")
    }
}

/// Every object the current build wants: its fingerprinted files, its pages (entry points
/// and the `logical` copies of renamed files, `(served, logical)` pairs, when the build
/// wrote them) and the manifest, whose bytes hash to `manifest_sha256`.
pub fn wanted(
    manifest: &Manifest,
    logical: &[(String, String)],
    manifest_sha256: &str,
    manifest_size: u64,
    policy: &Policy,
    prefix: &str,
) -> (Vec<Want>, Vec<Want>, Want) {
    let mut assets = Vec::new();
    let mut pages = Vec::new();
    for entry in manifest.entries.values() {
        let (list, cache_control) = if entry.immutable {
            (&mut assets, &policy.cache_control_immutable)
        } else {
            (&mut pages, &policy.cache_control_revalidate)
        };
        let want = |file: &str, sha256: &str, size: u64, coding: Option<&str>| Want {
            key: key(prefix, file),
            file: file.to_owned(),
            sha256: sha256.to_owned(),
            size,
            headers: Headers {
                cache_control: cache_control.clone(),
                content_type: entry.content_type.clone(),
                content_encoding: coding.map(str::to_owned),
            },
            create_only: entry.immutable,
        };
        // A variant before its plain key: a CDN rule that finds the plain key finds its variants.
        if policy.variants == Variants::Keys {
            for (coding, v) in entry.variants.iter().filter(|(c, _)| published(c)) {
                list.push(want(&v.path, &v.sha256, v.size, Some(coding)));
            }
        }
        list.push(want(&entry.path, &entry.sha256, entry.size, None));
    }
    // A logical path names the current bytes of a renamed file: revalidated, like a page.
    let by_file: BTreeMap<&str, &Want> = assets.iter().map(|w| (w.file.as_str(), w)).collect();
    let copies: Vec<Want> = logical
        .iter()
        .filter_map(|(served, logical)| {
            let asset = by_file.get(served.as_str())?;
            Some(Want {
                key: key(prefix, logical),
                headers: Headers {
                    cache_control: policy.cache_control_revalidate.clone(),
                    ..asset.headers.clone()
                },
                create_only: false,
                ..(*asset).clone()
            })
        })
        .collect();
    pages.extend(copies);
    let manifest_want = Want {
        key: key(prefix, MANIFEST_FILE_NAME),
        file: MANIFEST_FILE_NAME.to_owned(),
        sha256: manifest_sha256.to_owned(),
        size: manifest_size,
        headers: Headers {
            cache_control: policy.cache_control_revalidate.clone(),
            content_type: MANIFEST_CONTENT_TYPE.to_owned(),
            content_encoding: None,
        },
        create_only: false,
    };
    (assets, pages, manifest_want)
}

/// Whether a variant is uploaded as a key of its own: only a plain content-coding (br, zstd,
/// gzip) that a CDN rule can pick by `Accept-Encoding` alone; a variant that needs more of
/// the request than that (a dictionary delta, which also needs `Available-Dictionary`)
/// stays with an origin that negotiates.
fn published(coding: &str) -> bool {
    assetc_core::Coding::from_token(coding.as_bytes()).is_some()
}

/// The keys the kept generations list: the current build's wanted keys, and the
/// fingerprinted files (with their variant keys, if those are published) of the older kept
/// generations, whose pages may still be cached. `assetc clean`'s rule, over the bucket.
pub fn kept_keys<'a>(
    current: impl IntoIterator<Item = &'a Want>,
    older: impl IntoIterator<Item = &'a Manifest>,
    policy: &Policy,
    prefix: &str,
) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = current.into_iter().map(|w| w.key.clone()).collect();
    for manifest in older {
        for entry in manifest.entries.values().filter(|e| e.immutable) {
            keys.insert(key(prefix, &entry.path));
            if policy.variants == Variants::Keys {
                let variants = entry.variants.iter().filter(|(c, _)| published(c));
                keys.extend(variants.map(|(_, v)| key(prefix, &v.path)));
            }
        }
    }
    keys
}

/// What to do with `want`, given what the bucket holds at its key (None: no such key).
pub fn step(want: &Want, remote: Option<&Remote>) -> Step {
    let Some(remote) = remote else {
        return Step::Upload {
            reason: Reason::Missing,
        };
    };
    if remote.sha256.as_deref() != Some(want.sha256.as_str()) {
        return Step::Upload {
            reason: Reason::BytesDiffer,
        };
    }
    let mut headers = Vec::new();
    if remote.cache_control.as_deref() != Some(want.headers.cache_control.as_str()) {
        headers.push("cache-control");
    }
    if remote.content_type.as_deref() != Some(want.headers.content_type.as_str()) {
        headers.push("content-type");
    }
    if remote.content_encoding != want.headers.content_encoding {
        headers.push("content-encoding");
    }
    if headers.is_empty() {
        Step::Skip
    } else {
        Step::Refresh {
            headers,
            etag: remote.etag.clone(),
        }
    }
}

/// The plan: each wanted object's step, and, when `kept` is given (`--delete`), every
/// listed key it does not hold.
pub fn plan(
    (assets, pages, manifest): (Vec<Want>, Vec<Want>, Want),
    remote: &BTreeMap<String, Remote>,
    listed: &BTreeSet<String>,
    kept: Option<&BTreeSet<String>>,
) -> Plan {
    let act = |want: Want| Action {
        step: step(&want, remote.get(&want.key)),
        want,
    };
    Plan {
        assets: assets.into_iter().map(act).collect(),
        pages: pages.into_iter().map(act).collect(),
        manifest: act(manifest),
        deletions: kept.map_or_else(Vec::new, |kept| {
            listed
                .iter()
                .filter(|k| !kept.contains(*k))
                .cloned()
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assetc_core::{Entry, Variant};

    fn policy(variants: Variants) -> Policy {
        Policy {
            cache_control_immutable: "public, max-age=31536000, immutable".into(),
            cache_control_revalidate: "no-cache".into(),
            variants,
        }
    }

    fn entry(path: &str, immutable: bool, sha: &str) -> Entry {
        Entry {
            content_type: "text/css; charset=utf-8".into(),
            path: path.into(),
            immutable,
            sha256: sha.into(),
            size: 3,
            ..Entry::default()
        }
    }

    fn manifest() -> Manifest {
        let mut m = Manifest::new("/");
        let mut css = entry("css/a.AAAA.css", true, "aa");
        css.variants.insert(
            "br".into(),
            Variant {
                path: "css/a.AAAA.css.br".into(),
                sha256: "ab".into(),
                size: 2,
                etag: String::new(),
            },
        );
        m.entries.insert("css/a.css".into(), css);
        let mut page = entry("index.html", false, "ii");
        page.content_type = "text/html; charset=utf-8".into();
        m.entries.insert("index.html".into(), page);
        m
    }

    fn keys(wants: &[Want]) -> Vec<&str> {
        wants.iter().map(|w| w.key.as_str()).collect()
    }

    #[test]
    fn fingerprinted_files_come_first_then_pages_then_the_manifest() {
        let (assets, pages, m) = wanted(&manifest(), &[], "mm", 9, &policy(Variants::None), "");
        assert_eq!(keys(&assets), ["css/a.AAAA.css"]);
        assert_eq!(keys(&pages), ["index.html"]);
        assert_eq!(m.key, "assetc-manifest.json");
        assert!(assets[0].create_only && !pages[0].create_only && !m.create_only);
        assert_eq!(
            assets[0].headers.cache_control,
            "public, max-age=31536000, immutable"
        );
        assert_eq!(pages[0].headers.cache_control, "no-cache");
        assert_eq!(m.headers.content_type, "application/json");
    }

    #[test]
    fn variant_keys_carry_the_coding_and_the_originals_type_and_plain_keys_never_do() {
        let (assets, _, _) = wanted(&manifest(), &[], "mm", 9, &policy(Variants::Keys), "s");
        assert_eq!(keys(&assets), ["s/css/a.AAAA.css.br", "s/css/a.AAAA.css"]);
        assert_eq!(assets[0].headers.content_encoding.as_deref(), Some("br"));
        assert_eq!(assets[0].headers.content_type, "text/css; charset=utf-8");
        assert_eq!(assets[0].sha256, "ab");
        assert_eq!(assets[1].headers.content_encoding, None);
    }

    #[test]
    fn only_plain_codings_become_variant_keys() {
        let mut m = manifest();
        let css = m.entries.get_mut("css/a.css").unwrap();
        css.variants.insert(
            "dcb:0123".into(),
            Variant {
                path: "css/a.AAAA.css.0123.dcb".into(),
                sha256: "dd".into(),
                size: 1,
                etag: String::new(),
            },
        );
        let (assets, _, _) = wanted(&m, &[], "mm", 9, &policy(Variants::Keys), "");
        assert_eq!(keys(&assets), ["css/a.AAAA.css.br", "css/a.AAAA.css"]);
    }

    #[test]
    fn logical_paths_are_pages_holding_the_renamed_files_bytes() {
        let pairs = [
            ("css/a.AAAA.css".to_owned(), "css/a.css".to_owned()),
            ("css/a.AAAA.css.br".to_owned(), "css/a.css.br".to_owned()),
        ];
        let (_, pages, _) = wanted(&manifest(), &pairs, "mm", 9, &policy(Variants::Keys), "");
        assert_eq!(keys(&pages), ["index.html", "css/a.css", "css/a.css.br"]);
        assert_eq!(pages[1].file, "css/a.AAAA.css");
        assert_eq!(pages[1].headers.cache_control, "no-cache");
        assert!(!pages[1].create_only);
        assert_eq!(pages[2].headers.content_encoding.as_deref(), Some("br"));
        // Without variant keys, a variant's logical copy is not published either.
        let (_, pages, _) = wanted(&manifest(), &pairs, "mm", 9, &policy(Variants::None), "");
        assert_eq!(keys(&pages), ["index.html", "css/a.css"]);
    }

    #[test]
    fn steps_compare_the_sha256_then_every_header() {
        let (assets, _, _) = wanted(&manifest(), &[], "mm", 9, &policy(Variants::None), "");
        let want = &assets[0];
        let same = Remote {
            sha256: Some("aa".into()),
            cache_control: Some(want.headers.cache_control.clone()),
            content_type: Some(want.headers.content_type.clone()),
            content_encoding: None,
            etag: Some("\"e\"".into()),
        };
        assert_eq!(
            step(want, None),
            Step::Upload {
                reason: Reason::Missing
            }
        );
        assert_eq!(step(want, Some(&same)), Step::Skip);
        let other = Remote {
            sha256: None,
            ..same.clone()
        };
        assert_eq!(
            step(want, Some(&other)),
            Step::Upload {
                reason: Reason::BytesDiffer
            }
        );
        let stale = Remote {
            cache_control: Some("max-age=60".into()),
            content_encoding: Some("br".into()),
            ..same.clone()
        };
        assert_eq!(
            step(want, Some(&stale)),
            Step::Refresh {
                headers: vec!["cache-control", "content-encoding"],
                etag: Some("\"e\"".into())
            }
        );
    }

    #[test]
    fn deletions_are_the_listed_keys_no_kept_generation_lists() {
        let p = policy(Variants::None);
        let current = wanted(&manifest(), &[], "mm", 9, &p, "");
        let mut old = Manifest::new("/");
        old.entries
            .insert("css/a.css".into(), entry("css/a.OLD1.css", true, "o1"));
        old.entries
            .insert("index.html".into(), entry("index.html", false, "oi"));
        let all = current.0.iter().chain(&current.1).chain([&current.2]);
        let kept = kept_keys(all, [&old], &p, "");
        let listed: BTreeSet<String> = [
            "css/a.AAAA.css",
            "css/a.OLD1.css",
            "css/a.GONE.css",
            "index.html",
            "assetc-manifest.json",
            "stray.txt",
        ]
        .map(String::from)
        .into();
        let plan = plan(current, &BTreeMap::new(), &listed, Some(&kept));
        assert_eq!(plan.deletions, ["css/a.GONE.css", "stray.txt"]);
        let order: Vec<&str> = plan.actions().map(|a| a.want.key.as_str()).collect();
        assert_eq!(
            order,
            ["css/a.AAAA.css", "index.html", "assetc-manifest.json"]
        );
    }
}
