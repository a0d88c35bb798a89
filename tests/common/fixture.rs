//! Build directories written by hand with the core crate's types, for the library's tests:
//! a manifest, its files (fingerprinted ones at their hashed names), precompressed variants
//! and the `.assetc/` generations record, without running the pipeline.

use std::io::Write;
use std::path::Path;

use assetc_core::fingerprint::{hex, sha256};
use assetc_core::generations::{
    generation_manifest_path, Generation, Generations, GENERATIONS_FILE,
};
use assetc_core::{fingerprint, strong_etag, Entry, Manifest, Variant, MANIFEST_FILE_NAME};

/// 2023-11-14T22:13:20Z
pub const LAST_MODIFIED: i64 = 1_700_000_000;
pub const LAST_MODIFIED_HTTP: &str = "Tue, 14 Nov 2023 22:13:20 GMT";

/// A build directory under construction.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub manifest: Manifest,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            manifest: Manifest::new("/"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Adds a file. A fingerprinted one is written at its hashed name and returned.
    pub fn add(&mut self, logical: &str, bytes: &[u8], fingerprinted: bool) -> String {
        let digest = sha256(bytes);
        let served = if fingerprinted {
            let lp = assetc_core::LogicalPath::new(logical).unwrap();
            assetc_core::fingerprinted_name(&lp, &fingerprint(&digest)).to_string()
        } else {
            logical.to_owned()
        };
        let path = self.root().join(&served);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        self.manifest.entries.insert(
            logical.to_owned(),
            Entry {
                content_type: assetc_core::content_type::content_type(logical, bytes),
                etag: strong_etag(&digest),
                immutable: fingerprinted,
                integrity: String::new(),
                last_modified: LAST_MODIFIED,
                path: served.clone(),
                references: Vec::new(),
                sha256: hex(&digest),
                size: bytes.len() as u64,
                variants: Default::default(),
            },
        );
        served
    }

    /// Writes precompressed variants of `logical` beside its file and lists them in the
    /// manifest: real gzip (tests decode it), stand-in bytes for br and zstd (the server
    /// sends them as they are), each with its own strong ETag.
    pub fn add_variants(&mut self, logical: &str, codings: &[&str]) {
        let entry = self.manifest.entries[logical].clone();
        let bytes = std::fs::read(self.root().join(&entry.path)).unwrap();
        for coding in codings {
            let encoded = encode(coding, &bytes);
            let ext = match *coding {
                "br" => "br",
                "zstd" => "zst",
                "gzip" => "gz",
                other => other,
            };
            let path = format!("{}.{ext}", entry.path);
            std::fs::write(self.root().join(&path), &encoded).unwrap();
            let digest = sha256(&encoded);
            self.manifest
                .entries
                .get_mut(logical)
                .unwrap()
                .variants
                .insert(
                    (*coding).to_owned(),
                    Variant {
                        etag: strong_etag(&digest),
                        path,
                        sha256: hex(&digest),
                        size: encoded.len() as u64,
                    },
                );
        }
    }

    /// The generation id `assetc build` gives this manifest.
    pub fn generation_id(&self) -> String {
        fingerprint(&sha256(&self.manifest.to_json()))
    }

    /// Writes `.assetc/`: this manifest as the newest generation, then `older`, newest first.
    pub fn write_generations(&self, older: &[&Manifest]) {
        let mut record = Generations::default();
        for manifest in std::iter::once(&self.manifest).chain(older.iter().copied()) {
            let json = manifest.to_json();
            let id = fingerprint(&sha256(&json));
            let path = self.root().join(generation_manifest_path(&id));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, json).unwrap();
            record.generations.push(Generation {
                built_at: LAST_MODIFIED,
                config: "test".into(),
                id,
            });
        }
        std::fs::write(self.root().join(GENERATIONS_FILE), record.to_json()).unwrap();
    }

    pub fn entry(&self, logical: &str) -> &Entry {
        &self.manifest.entries[logical]
    }

    pub fn write_manifest(&self) {
        std::fs::write(
            self.root().join(MANIFEST_FILE_NAME),
            self.manifest.to_json(),
        )
        .unwrap();
    }

    /// The usual site: entry points, fingerprinted assets, a 404 page, a directory index.
    pub fn site() -> Self {
        let mut f = Self::new();
        f.add("index.html", b"<!doctype html><title>home</title>\n", false);
        f.add(
            "about.html",
            b"<!doctype html><title>about</title>\n",
            false,
        );
        f.add(
            "404.html",
            b"<!doctype html><title>not found</title>\n",
            false,
        );
        f.add(
            "docs/index.html",
            b"<!doctype html><title>docs</title>\n",
            false,
        );
        f.add("css/app.css", b"body { color: red }\n", true);
        f.add("js/app.js", b"console.log('hi');\n", true);
        f.add("robots.txt", b"User-agent: *\n", false);
        f.add("img/social card.png", b"\x89PNG fake", true);
        f.add("empty.txt", b"", false);
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        f.add("media/big.bin", &big, true);
        f.write_manifest();
        f
    }
}

/// Encoded bytes for a coding: real gzip, and for other codings distinct stand-in bytes.
pub fn encode(coding: &str, bytes: &[u8]) -> Vec<u8> {
    match coding {
        "gzip" => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(bytes).unwrap();
            gz.finish().unwrap()
        }
        other => {
            let mut out = format!("<{other}>").into_bytes();
            out.extend(bytes.iter().step_by(2));
            out
        }
    }
}
