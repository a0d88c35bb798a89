//! The scan cache (`.assetc/scan-cache`): what scanning, naming and the runtime-URL search
//! found for each text source, keyed by the SHA-256 of its bytes and of everything else that
//! decides the result, so that a rebuild parses only the text whose key changed. It is a
//! cache, not a record: a file that is missing, damaged (its checksum disagrees), written by
//! another assetc version or of another layout is ignored whole, and nothing outside a key
//! is ever taken from it.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Seek, Write};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use assetc_core::fingerprint::{hex, sha256};
use assetc_core::generations::STATE_DIR;
use assetc_core::Digest;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::error::BuildError;
use crate::scan::text_ref::{TextContext, TextRef};

/// The cache's path inside a build directory.
pub const CACHE_FILE: &str = ".assetc/scan-cache";

/// The first word of the file; then the layout, the assetc version and the body's SHA-256.
const MAGIC: &str = "assetc-scan-cache";
/// Bumped whenever what an entry holds, or how a key is computed, changes.
const LAYOUT: u32 = 3;

/// A text source's references as its scanner found them, in document order, and the parse
/// error that stopped it, if one did; for CSS, JS and web manifests each reference's span
/// beside it, and for JS and JSON the strings that may name a file (`scan::Scanned`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedScan {
    pub refs: Vec<CachedRef>,
    pub error: Option<String>,
    pub spans: Option<Vec<CachedSpan>>,
    pub strings: Vec<CachedSpan>,
}

/// A byte range of the text and how it is delimited (`TextContext::code`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct CachedSpan(pub u32, pub u32, pub u8);

impl CachedSpan {
    pub fn new(span: &Range<usize>, context: TextContext) -> Option<Self> {
        Some(Self(
            span.start.try_into().ok()?,
            span.end.try_into().ok()?,
            context.code()?,
        ))
    }

    /// The span in `source` (which must be the text scanned, as the key says), or None if
    /// it does not fall on character boundaries inside it: an entry that cannot be right.
    pub fn get(self, source: &str) -> Option<(Range<usize>, TextContext)> {
        let span = self.0 as usize..self.1 as usize;
        source.get(span.clone())?;
        Some((span, TextContext::from_code(self.2)?))
    }
}

impl CachedScan {
    /// The references with their spans in `source`, for a splice; None when the scan has
    /// no spans (HTML, a text that did not parse) or they cannot be `source`'s.
    pub fn spliced(&self, source: &str) -> Option<Vec<TextRef>> {
        let spans = self.spans.as_ref()?;
        if self.error.is_some() || spans.len() != self.refs.len() {
            return None;
        }
        spans
            .iter()
            .zip(&self.refs)
            .map(|(span, CachedRef(value, _, line, column, _))| {
                let (span, context) = span.get(source)?;
                Some(TextRef {
                    span,
                    value: value.clone(),
                    context,
                    line: *line,
                    column: *column,
                })
            })
            .collect()
    }

    /// The strings that may name a file, as spans of `source` with their quotes; None
    /// when one cannot be `source`'s.
    pub fn strings(&self, source: &str) -> Option<Vec<(Range<usize>, char)>> {
        self.strings
            .iter()
            .map(|s| match s.get(source)? {
                (span, TextContext::JsString(quote)) => Some((span, quote)),
                _ => None,
            })
            .collect()
    }
}

/// One reference found: value as written, whether a navigation, line, column, and whether
/// its element takes `integrity`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedRef(pub String, pub bool, pub u32, pub u32, pub bool);

/// A text source's final bytes as naming made them, without the bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedName {
    pub digest: Digest,
    pub size: u64,
    pub content_type: String,
    pub integrity: Option<String>,
    /// The final bytes are the source's.
    pub unchanged: bool,
}

/// A runtime-URL note, without the served name (taken from this build's naming).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedNote {
    pub line: u32,
    pub column: u32,
    pub string: String,
    pub target: String,
    pub others: usize,
}

/// The three kinds of entry, by key.
#[derive(Default)]
struct Entries {
    scans: HashMap<Digest, CachedScan>,
    names: HashMap<Digest, CachedName>,
    notes: HashMap<Digest, Vec<CachedNote>>,
}

/// The file's body: the entries as lists with hex keys (JSON object keys are strings, and a
/// list keeps the output sorted and deterministic).
#[derive(Serialize, Deserialize)]
struct Body {
    scans: Vec<(String, CachedScan)>,
    names: Vec<(String, CachedName)>,
    notes: Vec<(String, Vec<CachedNote>)>,
}

/// How often the cache answered during one build.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheUse {
    /// Lookups the cache answered (a text source not parsed again for that phase).
    pub hits: usize,
    /// Lookups it could not: the text was parsed (scanned, rewritten or searched).
    pub misses: usize,
}

/// The cache of one build: what the previous build left, the keys of it this build used,
/// and what this build made; it will leave the used and the made entries, nothing else, so
/// the cache never outgrows the tree. An entry used is not copied: a no-op rebuild, which
/// writes no cache, would hold every entry twice (30 MB at 100,000 files).
pub(crate) struct ScanCache {
    old: Mutex<Entries>,
    used: Mutex<HashSet<Digest>>,
    new: Mutex<Entries>,
    hits: AtomicUsize,
    misses: AtomicUsize,
}

impl ScanCache {
    /// The cache in the build directory `output`; empty when there is none or it cannot be
    /// trusted.
    pub fn read(output: &Path) -> Self {
        let old = fs::read(output.join(CACHE_FILE))
            .ok()
            .and_then(|bytes| parse(&bytes))
            .unwrap_or_default();
        Self {
            old: Mutex::new(old),
            used: Mutex::new(HashSet::new()),
            new: Mutex::new(Entries::default()),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
        }
    }

    /// The scan cached under `key`, or `scan()`'s, which is cached.
    pub fn scan(&self, key: Digest, scan: impl FnOnce() -> CachedScan) -> CachedScan {
        self.lookup(key, |e| &mut e.scans, scan)
    }

    /// What was scanned under `key` by this build or taken from the cache for it, if
    /// anything was (not counted as a use).
    pub fn scanned(&self, key: &Digest) -> Option<CachedScan> {
        if let Some(scan) = lock(&self.new).scans.get(key) {
            return Some(scan.clone());
        }
        lock(&self.old).scans.get(key).cloned()
    }

    /// The naming result cached under `key`, or `name()`'s.
    pub fn name<E>(
        &self,
        key: Digest,
        name: impl FnOnce() -> Result<CachedName, E>,
    ) -> Result<CachedName, E> {
        self.try_lookup(key, |e| &mut e.names, name)
    }

    /// The notes cached under `key`, or `notes()`'s.
    pub fn notes<E>(
        &self,
        key: Digest,
        notes: impl FnOnce() -> Result<Vec<CachedNote>, E>,
    ) -> Result<Vec<CachedNote>, E> {
        self.try_lookup(key, |e| &mut e.notes, notes)
    }

    fn lookup<V: Clone>(
        &self,
        key: Digest,
        map: impl Fn(&mut Entries) -> &mut HashMap<Digest, V>,
        make: impl FnOnce() -> V,
    ) -> V {
        self.try_lookup(key, map, || Ok::<V, std::convert::Infallible>(make()))
            .unwrap_or_else(|never| match never {})
    }

    fn try_lookup<V: Clone, E>(
        &self,
        key: Digest,
        map: impl Fn(&mut Entries) -> &mut HashMap<Digest, V>,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let cached = map(&mut lock(&self.old)).get(&key).cloned();
        if let Some(value) = cached {
            self.hits.fetch_add(1, Ordering::Relaxed);
            lock(&self.used).insert(key);
            return Ok(value);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let value = make()?;
        map(&mut lock(&self.new)).insert(key, value.clone());
        Ok(value)
    }

    /// How often the cache answered so far.
    pub fn used(&self) -> CacheUse {
        CacheUse {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// Leaves the cache for the next build in the staging directory `dir` and lets its
    /// entries go: the file this cache was read from in `output` is linked there when this
    /// build used all of it and made nothing (it is then what [`ScanCache::write`] would
    /// write, which at 100,000 files costs half a second), otherwise the cache is written.
    pub fn finish(&self, output: &Path, dir: &Path) -> Result<(), BuildError> {
        let whole = {
            let old = lock(&self.old);
            let used = lock(&self.used).len();
            used == old.scans.len() + old.names.len() + old.notes.len()
        };
        if self.used().misses == 0 && whole {
            let state = dir.join(STATE_DIR);
            fs::create_dir_all(&state).map_err(BuildError::io(&state))?;
            if fs::hard_link(output.join(CACHE_FILE), dir.join(CACHE_FILE)).is_ok() {
                *lock(&self.old) = Entries::default();
                *lock(&self.used) = HashSet::new();
                return Ok(());
            }
            // No file to link (none was read), or a file system without links: written.
        }
        self.write(dir)
    }

    /// Moves the cache `finish` left in the staging directory `staging` into the build
    /// directory `output` (after a build that changed nothing else), atomically.
    pub fn move_into(staging: &Path, output: &Path) -> Result<(), BuildError> {
        let state = output.join(STATE_DIR);
        fs::create_dir_all(&state).map_err(BuildError::io(&state))?;
        let to = output.join(CACHE_FILE);
        fs::rename(staging.join(CACHE_FILE), &to).map_err(BuildError::io(&to))
    }

    /// Writes what this build used and made into the build directory `dir`, replacing the
    /// file atomically, and lets the entries go.
    fn write(&self, dir: &Path) -> Result<(), BuildError> {
        let new = std::mem::take(&mut *lock(&self.new));
        let mut kept = std::mem::take(&mut *lock(&self.old));
        let used = std::mem::take(&mut *lock(&self.used));
        // Keys name their kind (`Node::cache_key`), so one set holds the used of all three.
        kept.scans.retain(|key, _| used.contains(key));
        kept.names.retain(|key, _| used.contains(key));
        kept.notes.retain(|key, _| used.contains(key));
        kept.scans.extend(new.scans);
        kept.names.extend(new.names);
        kept.notes.extend(new.notes);
        let body = Body {
            scans: sorted(kept.scans),
            names: sorted(kept.names),
            notes: sorted(kept.notes),
        };
        let state = dir.join(STATE_DIR);
        fs::create_dir_all(&state).map_err(BuildError::io(&state))?;
        let path = dir.join(CACHE_FILE);
        let part = state.join("scan-cache.part");
        // Streamed (the cache is tens of MB at 100,000 files), hashed on the way, and the
        // first line, of fixed length, written over once the hash is known.
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&part)?;
            file.write_all(header(&[0; 32]).as_bytes())?;
            file.write_all(b"\n")?;
            let (mut file, digest) =
                Hashing::write_through(file, |out| Ok(serde_json::to_writer(out, &body)?))?;
            file.seek(std::io::SeekFrom::Start(0))?;
            file.write_all(header(&digest).as_bytes())
        };
        write().map_err(BuildError::io(&part))?;
        fs::rename(&part, &path).map_err(BuildError::io(&path))
    }
}

/// Hashes what passes through to `out` (the build's records are hashed as they are
/// streamed to their files).
pub(crate) struct Hashing<W> {
    pub out: W,
    pub sha256: sha2::Sha256,
}

impl<W> Hashing<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            sha256: sha2::Sha256::new(),
        }
    }
}

impl<W: Write> Hashing<W> {
    /// Writes to `out` through `write`, buffered, and returns `out` with the SHA-256 of
    /// what was written. The buffer is before the hash: it sees the buffer's large writes,
    /// not serde's small ones.
    pub fn write_through(
        out: W,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<(W, Digest)> {
        let mut buffered = std::io::BufWriter::with_capacity(256 * 1024, Self::new(out));
        write(&mut buffered)?;
        let hashed = buffered.into_inner().map_err(|e| e.into_error())?;
        Ok((hashed.out, hashed.sha256.finalize().into()))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.sha256.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The first line: magic, layout, assetc version, SHA-256 of the body (the rest).
fn header(body_sha256: &Digest) -> String {
    format!(
        "{MAGIC} {LAYOUT} {} {}",
        env!("CARGO_PKG_VERSION"),
        hex(body_sha256)
    )
}

/// The entries of a cache file, if it is one this assetc wrote and is whole.
fn parse(bytes: &[u8]) -> Option<Entries> {
    let newline = bytes.iter().position(|&b| b == b'\n')?;
    let (first, body) = (&bytes[..newline], &bytes[newline + 1..]);
    if first != header(&sha256(body)).as_bytes() {
        return None;
    }
    let body: Body = serde_json::from_slice(body).ok()?;
    Some(Entries {
        scans: keyed(body.scans)?,
        names: keyed(body.names)?,
        notes: keyed(body.notes)?,
    })
}

/// Entries as the file lists them: by hex key, sorted.
fn sorted<V>(entries: HashMap<Digest, V>) -> Vec<(String, V)> {
    let mut list: Vec<(String, V)> = entries.into_iter().map(|(k, v)| (hex(&k), v)).collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list
}

/// Entries by key, from the file's list; None if a key is not 64 hex digits.
fn keyed<V>(list: Vec<(String, V)>) -> Option<HashMap<Digest, V>> {
    list.into_iter()
        .map(|(hex_key, v)| {
            let mut key = [0u8; 32];
            for (i, byte) in key.iter_mut().enumerate() {
                *byte = u8::from_str_radix(hex_key.get(2 * i..2 * i + 2)?, 16).ok()?;
            }
            Some((key, v))
        })
        .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Hashes the parts of a key, each length-prefixed so that no two lists of parts collide.
pub(crate) struct Key(sha2::Sha256);

impl Key {
    /// A key of the kind `kind` (`scan`, `name`, `notes`).
    pub fn new(kind: &str) -> Self {
        let mut key = Self(sha2::Sha256::new());
        key.add(kind.as_bytes());
        key
    }

    pub fn add(&mut self, part: &[u8]) -> &mut Self {
        self.0.update((part.len() as u64).to_le_bytes());
        self.0.update(part);
        self
    }

    pub fn finish(self) -> Digest {
        self.0.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(value: &str) -> CachedScan {
        CachedScan {
            refs: vec![CachedRef(value.into(), false, 1, 2, false)],
            error: None,
            spans: Some(vec![CachedSpan(0, value.len() as u32, 4)]),
            strings: Vec::new(),
        }
    }

    #[test]
    fn what_one_build_uses_the_next_reads_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ScanCache::read(dir.path());
        let a = Key::new("scan").add(b"a").clone_finish();
        let b = Key::new("scan").add(b"b").clone_finish();
        cache.scan(a, || scan("a.css"));
        cache.scan(b, || scan("b.css"));
        assert_eq!(cache.used(), CacheUse { hits: 0, misses: 2 });
        cache.write(dir.path()).unwrap();

        let next = ScanCache::read(dir.path());
        let got = next.scan(a, || panic!("cached"));
        assert_eq!(got.refs[0].0, "a.css");
        assert_eq!(next.used(), CacheUse { hits: 1, misses: 0 });
        next.write(dir.path()).unwrap();
        // `b` was not used: the cache the second build leaves no longer has it.
        let third = ScanCache::read(dir.path());
        third.scan(b, || scan("made again"));
        assert_eq!(third.used(), CacheUse { hits: 0, misses: 1 });
    }

    #[test]
    fn a_damaged_or_foreign_cache_is_ignored_whole() {
        let dir = tempfile::tempdir().unwrap();
        let key = Key::new("scan").add(b"a").clone_finish();
        let cache = ScanCache::read(dir.path());
        cache.scan(key, || scan("a.css"));
        cache.write(dir.path()).unwrap();
        let path = dir.path().join(CACHE_FILE);
        let good = fs::read(&path).unwrap();

        let mut flipped = good.clone();
        let at = flipped.len() - 10;
        flipped[at] ^= 1;
        let foreign = String::from_utf8(good.clone()).unwrap().replacen(
            &format!("{MAGIC} {LAYOUT} "),
            &format!("{MAGIC} {} ", LAYOUT + 1),
            1,
        );
        let versions = String::from_utf8(good.clone()).unwrap().replacen(
            env!("CARGO_PKG_VERSION"),
            "0.0.0-other",
            1,
        );
        for (what, bytes) in [
            ("a flipped bit", flipped),
            ("another layout", foreign.into_bytes()),
            ("another version", versions.into_bytes()),
            ("garbage", b"\x00\xff not a cache".to_vec()),
            ("empty", Vec::new()),
        ] {
            fs::write(&path, &bytes).unwrap();
            let cache = ScanCache::read(dir.path());
            cache.scan(key, || scan("parsed again"));
            assert_eq!(cache.used(), CacheUse { hits: 0, misses: 1 }, "{what}");
        }
        fs::write(&path, &good).unwrap();
        let cache = ScanCache::read(dir.path());
        cache.scan(key, || panic!("the intact cache answers"));
    }

    #[test]
    fn a_cache_used_whole_is_linked_into_the_staging_tree_and_any_other_is_written() {
        use std::os::unix::fs::MetadataExt;
        let output = tempfile::tempdir().unwrap();
        let a = Key::new("scan").add(b"a").clone_finish();
        let b = Key::new("scan").add(b"b").clone_finish();
        let first = ScanCache::read(output.path());
        first.scan(a, || scan("a.css"));
        first.scan(b, || scan("b.css"));
        first.write(output.path()).unwrap();
        let inode = |dir: &Path| fs::metadata(dir.join(CACHE_FILE)).unwrap().ino();

        // Every entry used, nothing made: the output's file itself.
        let staging = tempfile::tempdir_in(output.path()).unwrap();
        let all = ScanCache::read(output.path());
        all.scan(a, || panic!("cached"));
        all.scan(b, || panic!("cached"));
        all.finish(output.path(), staging.path()).unwrap();
        assert_eq!(inode(staging.path()), inode(output.path()));

        // One entry unused, or one made: written, holding what this build used and made.
        for (keys, made) in [(vec![a], None), (vec![a, b], Some("c.css"))] {
            let staging = tempfile::tempdir_in(output.path()).unwrap();
            let cache = ScanCache::read(output.path());
            for key in &keys {
                cache.scan(*key, || panic!("cached"));
            }
            let c = Key::new("scan").add(b"c").clone_finish();
            if let Some(value) = made {
                cache.scan(c, || scan(value));
            }
            cache.finish(output.path(), staging.path()).unwrap();
            assert_ne!(inode(staging.path()), inode(output.path()), "{keys:?}");
            let next = ScanCache::read(staging.path());
            let mut expected: HashSet<Digest> = keys.into_iter().collect();
            expected.extend(made.map(|_| c));
            let got: HashSet<Digest> = lock(&next.old).scans.keys().copied().collect();
            assert_eq!(got, expected);
        }

        // Moved into the output after a build that changed nothing else.
        let staging = tempfile::tempdir_in(output.path()).unwrap();
        let cache = ScanCache::read(output.path());
        cache.scan(a, || panic!("cached"));
        cache.finish(output.path(), staging.path()).unwrap();
        let staged = inode(staging.path());
        ScanCache::move_into(staging.path(), output.path()).unwrap();
        assert_eq!(inode(output.path()), staged);
        assert!(!staging.path().join(CACHE_FILE).exists());
    }

    impl Key {
        fn clone_finish(&mut self) -> Digest {
            Key(self.0.clone()).finish()
        }
    }

    #[test]
    fn spans_that_cannot_be_the_texts_are_not_spliced() {
        let source = "url(é.png)";
        let at = |start: u32, end: u32, code: u8| CachedScan {
            spans: Some(vec![CachedSpan(start, end, code)]),
            ..scan("é.png")
        };
        let refs = at(4, 10, 0)
            .spliced(source)
            .expect("in bounds, on boundaries");
        assert_eq!(
            (&source[refs[0].span.clone()], refs[0].context),
            ("é.png", TextContext::CssUnquotedUrl)
        );
        // Past the end, inside a character, an unknown delimiter.
        for bad in [at(4, 12, 0), at(5, 10, 0), at(4, 10, 7)] {
            assert!(bad.spliced(source).is_none());
        }
        // A span missing for a reference, or a scan that failed.
        let short = CachedScan {
            spans: Some(Vec::new()),
            ..scan("é.png")
        };
        assert!(short.spliced(source).is_none());
        let failed = CachedScan {
            error: Some("not UTF-8".into()),
            ..at(4, 10, 0)
        };
        assert!(failed.spliced(source).is_none());
        // Strings are JS strings only.
        let strings = CachedScan {
            strings: vec![CachedSpan(4, 10, 6)],
            ..scan("é.png")
        };
        assert_eq!(strings.strings(source), Some(vec![(4..10, '`')]));
        let css = CachedScan {
            strings: vec![CachedSpan(4, 10, 2)],
            ..scan("é.png")
        };
        assert_eq!(css.strings(source), None);
    }
}
