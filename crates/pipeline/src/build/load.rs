//! Load and hash: each source read once. Text (HTML, CSS, JS, JSON, web manifests) is held in
//! memory to be scanned and rewritten; every other file is hashed as a stream and copied
//! (verified against this hash) when written.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::Path;

use assetc_core::{content_type, Digest};
use globset::GlobSet;
use sha2::{Digest as _, Sha256};

use crate::build::entry_points::EntryPoints;
use crate::build::walk::SourceFile;
use crate::error::BuildError;
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
    /// Text whose references are rewritten.
    Text(Vec<u8>),
    /// A file served as it is: hashed now, copied (and verified) when written.
    File {
        digest: Digest,
        size: u64,
        /// The first KiB, for the content type.
        head: Vec<u8>,
    },
}

/// Reads a source: text into memory, anything else hashed as a stream.
pub(crate) fn load(
    source: SourceFile,
    entry_points: &EntryPoints,
    already_hashed: Option<&GlobSet>,
) -> Result<Node, BuildError> {
    let mut format = Format::of(&source.logical);
    if format.is_text() {
        let size = fs::metadata(&source.path)
            .map_err(BuildError::io(&source.path))?
            .len();
        if size > MAX_SCANNED_SIZE {
            format = Format::Opaque;
        }
    }
    let content = if format.is_text() {
        Content::Text(fs::read(&source.path).map_err(BuildError::io(&source.path))?)
    } else {
        let (digest, size, head) = hash_file(&source.path)?;
        Content::File { digest, size, head }
    };
    let charset = match (&content, format) {
        (Content::Text(bytes), Format::Html) => {
            content_type::declared_charset("text/html", bytes).unwrap_or_else(|| "utf-8".into())
        }
        _ => "utf-8".into(),
    };
    let entry_point = entry_points.contains(&source.logical);
    let already_hashed = already_hashed.is_some_and(|set| set.is_match(source.logical.as_str()));
    Ok(Node {
        source,
        format,
        entry_point,
        already_hashed,
        content,
        charset,
        references: BTreeSet::new(),
    })
}

thread_local! {
    /// One read buffer per worker: a fresh zeroed 256 KiB per file costs more than hashing
    /// a small file.
    static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 256 * 1024]);
}

/// Hashes a file as a stream: SHA-256, size, and its first KiB (for the charset).
pub(crate) fn hash_file(path: &Path) -> Result<(Digest, u64, Vec<u8>), BuildError> {
    BUFFER.with(|b| hash_file_with(path, &mut b.borrow_mut()))
}

fn hash_file_with(path: &Path, buf: &mut [u8]) -> Result<(Digest, u64, Vec<u8>), BuildError> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut head = Vec::new();
    read_chunks(path, buf, |chunk| {
        if head.len() < 1024 {
            head.extend_from_slice(&chunk[..chunk.len().min(1024 - head.len())]);
        }
        hasher.update(chunk);
        size += chunk.len() as u64;
        Ok(())
    })?;
    Ok((hasher.finalize().into(), size, head))
}

/// Reads the file at `path` through `buf`, giving `f` each chunk read.
pub(crate) fn read_chunks(
    path: &Path,
    buf: &mut [u8],
    mut f: impl FnMut(&[u8]) -> Result<(), BuildError>,
) -> Result<(), BuildError> {
    let mut reader = fs::File::open(path).map_err(BuildError::io(path))?;
    loop {
        match reader.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => f(&buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(BuildError::io(path)(e)),
        }
    }
}

/// Runs `f` with this worker's read buffer.
pub(crate) fn with_buffer<T>(f: impl FnOnce(&mut [u8]) -> T) -> T {
    BUFFER.with(|b| f(&mut b.borrow_mut()))
}
