//! Load and hash: each source read once here. Text (HTML, CSS, JS, JSON, web manifests) is
//! hashed and handed to the scan, then let go: later phases read it again through
//! [`Node::text`], checked by its [`Stamp`] or against this digest, so a build holds the
//! files being worked on, never the whole tree's text. Every other file is hashed as a stream and copied when
//! written: verified against this hash, or by its [`Stamp`] where that can stand for it.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use assetc_core::fingerprint::sha256;
use assetc_core::{content_type, Digest};
use globset::GlobSet;
use sha2::{Digest as _, Sha256};

use crate::build::entry_points::EntryPoints;
use crate::build::walk::SourceFile;
use crate::error::BuildError;
use crate::output::scan_cache::Key;
use crate::scan::Format;

/// Text files larger than this are copied as they are, not scanned for references.
const MAX_SCANNED_SIZE: u64 = 64 << 20;

/// One source file on its way through the build.
pub(crate) struct Node {
    pub source: SourceFile,
    pub format: Format,
    pub entry_point: bool,
    pub already_hashed: bool,
    pub content: Content,
    /// Charset label, for HTML.
    pub charset: String,
    /// Every local target found, by node index.
    pub references: BTreeSet<usize>,
}

pub(crate) enum Content {
    /// Text whose references are rewritten; its bytes are read again when needed.
    Text {
        digest: Digest,
        size: u64,
        /// Its metadata once read, where that can stand for the bytes hashed: the later
        /// reads are then checked by it rather than hashed again.
        stamp: Option<Stamp>,
    },
    /// A file served as it is: hashed now, copied (and verified) when written.
    File {
        digest: Digest,
        size: u64,
        /// From its name and first KiB, found as it is hashed (not the KiB itself: a KiB
        /// per file is 100 MB at 100,000 files).
        content_type: String,
        /// Its metadata once hashed, where that can stand for the bytes hashed.
        stamp: Option<Stamp>,
    },
}

/// A file's identity and the times the kernel sets on every change to it: while a file's
/// stamp is the one it had when it was hashed, its bytes are the ones hashed (a write sets
/// `ctime` to the current time, which no caller can set back; an editor's atomic save is
/// another inode). So a copied file is checked by its stamp, before and after a copy the
/// kernel makes (`copy_file_range`), rather than read and hashed a second time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

/// How long before its hashing a file must have last changed for its stamp to stand for
/// its bytes: a write within the same tick of the file system's clock as the one before it
/// leaves `ctime` as it was (git's "racy" files). Two seconds is past any clock's tick and
/// past the granularity of the coarsest file systems' times; a file changed more recently
/// is verified by its hash.
pub(crate) const SETTLED: Duration = Duration::from_secs(2);

impl Stamp {
    pub(crate) fn of(meta: &fs::Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// The stamp of a file just hashed, if it last changed at least `settled` ago.
    pub(crate) fn settled(meta: &fs::Metadata, settled: Duration) -> Option<Self> {
        let (secs, nanos) = (meta.ctime(), meta.ctime_nsec());
        let changed = SystemTime::UNIX_EPOCH
            + Duration::new(u64::try_from(secs).ok()?, u32::try_from(nanos).ok()?);
        let age = SystemTime::now().duration_since(changed).ok()?;
        (age >= settled).then(|| Self::of(meta))
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }
}

/// Reads a source: text into memory (returned beside the node, for the scan), anything else
/// hashed as a stream.
pub(crate) fn load(
    source: SourceFile,
    entry_points: &EntryPoints,
    already_hashed: Option<&GlobSet>,
) -> Result<(Node, Option<Vec<u8>>), BuildError> {
    let mut format = Format::of(&source.logical);
    // A text is opened once: its size decides whether it is scanned at all.
    let opened = if format.is_text() {
        let (file, before) = open_text(&source.path)?;
        if before.len() > MAX_SCANNED_SIZE {
            format = Format::Opaque;
            None
        } else {
            Some((file, before))
        }
    } else {
        None
    };
    let (content, text) = if let Some((file, before)) = opened {
        let (text, meta) = read_text_from(file, before, &source.path)?;
        let stamp = meta
            .and_then(|meta| Stamp::settled(&meta, SETTLED))
            .filter(|s| s.size == text.len() as u64);
        let content = Content::Text {
            digest: sha256(&text),
            size: text.len() as u64,
            stamp,
        };
        (content, Some(text))
    } else {
        let (digest, size, head, stamp) = hash_file(&source.path)?;
        let content_type = content_type::content_type(source.logical.as_str(), &head);
        let content = Content::File {
            digest,
            size,
            content_type,
            stamp,
        };
        (content, None)
    };
    let charset = match (&text, format) {
        (Some(bytes), Format::Html) => {
            content_type::declared_charset("text/html", bytes).unwrap_or_else(|| "utf-8".into())
        }
        _ => "utf-8".into(),
    };
    let entry_point = entry_points.contains(&source.logical);
    let already_hashed = already_hashed.is_some_and(|set| set.is_match(source.logical.as_str()));
    let node = Node {
        source,
        format,
        entry_point,
        already_hashed,
        content,
        charset,
        references: BTreeSet::new(),
    };
    Ok((node, text))
}

impl Node {
    /// A text source's bytes, read again and checked to be the ones loaded (a file changed
    /// since is refused, as a copied file is); None for a file that is not text.
    pub(crate) fn text(&self) -> Result<Option<Vec<u8>>, BuildError> {
        let Content::Text {
            digest,
            size,
            stamp,
        } = &self.content
        else {
            return Ok(None);
        };
        let path = &self.source.path;
        let (text, after) = read_text(path)?;
        // Read under the stamp it had when hashed (the same before and after the read):
        // the bytes are the ones hashed, as for a copied file.
        let stamped = stamp.is_some_and(|s| after.is_some_and(|m| Stamp::of(&m) == s));
        if text.len() as u64 != *size || (!stamped && &sha256(&text) != digest) {
            return Err(BuildError::ChangedDuringBuild { path: path.clone() });
        }
        Ok(Some(text))
    }

    /// A scan-cache key of the kind `kind` over what every kind's result depends on: the
    /// source's bytes (by digest), its format and its charset.
    pub(crate) fn cache_key(&self, kind: &str) -> Key {
        let (digest, _) = self.digest();
        let mut key = Key::new(kind);
        key.add(digest)
            .add(format!("{:?}", self.format).as_bytes())
            .add(self.charset.as_bytes());
        key
    }

    /// The source's stamp, where it can stand for the bytes hashed.
    pub(crate) fn stamp(&self) -> Option<Stamp> {
        match &self.content {
            Content::File { stamp, .. } | Content::Text { stamp, .. } => *stamp,
        }
    }

    /// The source's own digest and size.
    pub(crate) fn digest(&self) -> (&Digest, u64) {
        match &self.content {
            Content::Text { digest, size, .. } | Content::File { digest, size, .. } => {
                (digest, *size)
            }
        }
    }
}

thread_local! {
    /// One read buffer per worker: a fresh zeroed 256 KiB per file costs more than hashing
    /// a small file.
    static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 256 * 1024]);
}

/// What hashing a file found: SHA-256, size, its first KiB (for the charset) and its stamp
/// once read (if it is settled).
type Hashed = (Digest, u64, Vec<u8>, Option<Stamp>);

/// Hashes a file as a stream.
pub(crate) fn hash_file(path: &Path) -> Result<Hashed, BuildError> {
    BUFFER.with(|b| hash_file_with(path, &mut b.borrow_mut()))
}

fn hash_file_with(path: &Path, buf: &mut [u8]) -> Result<Hashed, BuildError> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut head = Vec::new();
    let file = read_chunks(path, buf, |chunk| {
        if head.len() < 1024 {
            head.extend_from_slice(&chunk[..chunk.len().min(1024 - head.len())]);
        }
        hasher.update(chunk);
        size += chunk.len() as u64;
        Ok(())
    })?;
    let meta = file.metadata().map_err(BuildError::io(path))?;
    // A stamp of another size than the bytes read was taken after a change.
    let stamp = Stamp::settled(&meta, SETTLED).filter(|s| s.size == size);
    Ok((hasher.finalize().into(), size, head, stamp))
}

/// Reads the file at `path` through `buf`, giving `f` each chunk read; returns the file,
/// read to its end.
pub(crate) fn read_chunks(
    path: &Path,
    buf: &mut [u8],
    f: impl FnMut(&[u8]) -> Result<(), BuildError>,
) -> Result<fs::File, BuildError> {
    let reader = fs::File::open(path).map_err(BuildError::io(path))?;
    read_from(reader, path, buf, f)
}

/// [`read_chunks`] of a file already open (`path` is for errors).
pub(crate) fn read_from(
    mut reader: fs::File,
    path: &Path,
    buf: &mut [u8],
    mut f: impl FnMut(&[u8]) -> Result<(), BuildError>,
) -> Result<fs::File, BuildError> {
    loop {
        match reader.read(buf) {
            Ok(0) => return Ok(reader),
            Ok(n) => f(&buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(BuildError::io(path)(e)),
        }
    }
}

/// A file's bytes, and its metadata taken once they are read if its stamp did not move
/// during the read (a stamp the bytes were read under); None if it did.
fn read_text(path: &Path) -> Result<(Vec<u8>, Option<fs::Metadata>), BuildError> {
    let (file, before) = open_text(path)?;
    read_text_from(file, before, path)
}

/// A text opened, with its metadata before any read.
fn open_text(path: &Path) -> Result<(fs::File, fs::Metadata), BuildError> {
    let file = fs::File::open(path).map_err(BuildError::io(path))?;
    let before = file.metadata().map_err(BuildError::io(path))?;
    Ok((file, before))
}

/// [`read_text`] of a file opened with [`open_text`].
fn read_text_from(
    file: fs::File,
    before: fs::Metadata,
    path: &Path,
) -> Result<(Vec<u8>, Option<fs::Metadata>), BuildError> {
    let mut text = Vec::with_capacity(before.len() as usize);
    // Through `take`: `File::read_to_end` would stat the file and seek to size a buffer
    // already sized by `before`. One byte past the size still finds a file grown since.
    let mut file = file.take(before.len() + 1);
    file.read_to_end(&mut text).map_err(BuildError::io(path))?;
    let mut file = file.into_inner();
    if text.len() as u64 > before.len() {
        // Grown during the read: read the rest, and the stamps below disagree.
        file.read_to_end(&mut text).map_err(BuildError::io(path))?;
    }
    let after = file.metadata().map_err(BuildError::io(path))?;
    Ok((
        text,
        (Stamp::of(&before) == Stamp::of(&after)).then_some(after),
    ))
}

/// Runs `f` with this worker's read buffer.
pub(crate) fn with_buffer<T>(f: impl FnOnce(&mut [u8]) -> T) -> T {
    BUFFER.with(|b| f(&mut b.borrow_mut()))
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::os::unix::fs::MetadataExt as _;

    use assetc_core::LogicalPath;

    use super::*;

    /// `path` loaded as a text node whose stamp counts as settled at once.
    fn loaded(path: &Path) -> Node {
        let source = SourceFile {
            logical: LogicalPath::new("app.js").unwrap(),
            path: path.to_path_buf(),
        };
        let (mut node, text) = load(source, &EntryPoints::new(&[]).unwrap(), None).unwrap();
        assert_eq!(text.as_deref(), Some(&fs::read(path).unwrap()[..]));
        let meta = fs::metadata(path).unwrap();
        let Content::Text { stamp, .. } = &mut node.content else {
            panic!("a script is text");
        };
        // Just written: hashed again when read, as a copied file is.
        assert_eq!(*stamp, None);
        *stamp = Stamp::settled(&meta, Duration::ZERO);
        assert!(stamp.is_some());
        node
    }

    #[test]
    fn text_read_again_is_the_text_loaded_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.js");
        let changed = |node: &Node| matches!(node.text(), Err(BuildError::ChangedDuringBuild { path: p }) if p == path);
        fs::write(&path, "import './a.js';\n").unwrap();
        let node = loaded(&path);
        assert_eq!(node.text().unwrap().unwrap(), b"import './a.js';\n");

        // Rewritten in place, same size: its ctime moved, so it is hashed, and refused. (A
        // write within the clock tick of the stamp's would leave ctime as it was, which is
        // why a load stamps only files settled for `SETTLED`: written until the tick passes.)
        let ctime = |p: &Path| {
            fs::metadata(p)
                .map(|m| (m.ctime(), m.ctime_nsec()))
                .unwrap()
        };
        let stamped = ctime(&path);
        for _ in 0..10_000 {
            fs::write(&path, "import './b.js';\n").unwrap();
            if ctime(&path) != stamped {
                break;
            }
        }
        assert_ne!(ctime(&path), stamped);
        assert!(changed(&node));

        // Replaced by an editor's atomic save of the same bytes: another inode, so hashed,
        // and the same bytes pass.
        let node = loaded(&path);
        let other = dir.path().join("app.js.tmp");
        fs::write(&other, "import './b.js';\n").unwrap();
        fs::rename(&other, &path).unwrap();
        assert_eq!(node.text().unwrap().unwrap(), b"import './b.js';\n");

        // Grown in place.
        let node = loaded(&path);
        fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"more")
            .unwrap();
        assert!(changed(&node));
    }

    #[test]
    fn a_text_grown_while_read_is_read_whole_without_a_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.css");
        fs::write(&path, "a{}").unwrap();
        let (file, before) = open_text(&path).unwrap();
        // Grown between the size taken and the read.
        fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"b{}c{}")
            .unwrap();
        let (text, stamp) = read_text_from(file, before, &path).unwrap();
        assert_eq!(text, b"a{}b{}c{}");
        assert!(stamp.is_none());
        // Unchanged: whole, with the metadata that stands for its bytes.
        let (file, before) = open_text(&path).unwrap();
        let (text, stamp) = read_text_from(file, before, &path).unwrap();
        assert_eq!(text, b"a{}b{}c{}");
        assert_eq!(stamp.map(|m| m.len()), Some(9));
    }
}
