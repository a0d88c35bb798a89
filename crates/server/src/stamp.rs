//! A build root's identity without reading it ([`Stamp`]): what the watcher compares to
//! notice a new build, and what a load checks to know it read one tree.

use std::path::Path;

use assetc_core::generations::GENERATIONS_FILE;
use assetc_core::MANIFEST_FILE_NAME;

/// What identifies the build at a root without reading it: the root directory's inode
/// (an atomic swap of the tree, or a retargeted symlink, gives a new one), the manifest's
/// inode, size and mtime (a tree rewritten in place), and the generations record's (an
/// `assetc clean` in place). Three `stat` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    root: FileId,
    manifest: Option<FileId>,
    record: Option<FileId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: Option<std::time::SystemTime>,
}

impl FileId {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Self {
            dev,
            ino,
            len: meta.len(),
            mtime: meta.modified().ok(),
        }
    }
}

impl Stamp {
    /// The stamp of the build at `root` now; `None` when the root cannot be read.
    pub fn of(root: &Path) -> Option<Stamp> {
        let root_meta = std::fs::metadata(root).ok()?;
        let file = |name: &str| {
            std::fs::metadata(root.join(name))
                .ok()
                .as_ref()
                .map(FileId::of)
        };
        Some(Stamp {
            root: FileId::of(&root_meta),
            manifest: file(MANIFEST_FILE_NAME),
            record: file(GENERATIONS_FILE),
        })
    }
}
