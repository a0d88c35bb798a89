//! Bodies that are not held in memory are read from files opened on demand, through a
//! bounded cache of open handles: a build of any size costs at most `capacity`
//! descriptors, not one per file. Only paths computed at load from the manifest are ever
//! opened, never one derived from a request.

use std::fs::File;
use std::io;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lru::LruCache;

/// Where one representation's bytes are on disk, as the load found them.
#[derive(Debug)]
pub(crate) struct DiskFile {
    /// The build root joined with the manifest's served path, at load.
    pub path: PathBuf,
    pub len: u64,
    /// Device and inode at load: a file at the path with another identity holds another
    /// build's bytes, unless the name is fingerprinted.
    pub id: (u64, u64),
    /// A fingerprinted name: any file there of this length has these bytes (the name
    /// carries their hash), so a deploy that linked it into a new tree changes nothing.
    pub immutable: bool,
}

/// Why a file the manifest lists cannot be read now.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unreadable {
    #[error("cannot open `{path}`", path = path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("`{path}` is now another file than the build's (a deploy replaced it before the reload)", path = path.display())]
    Replaced { path: PathBuf },
}

/// The open handles of one loaded build, least recently used evicted first. A handle
/// evicted while a response still streams from it stays open until that response ends.
#[derive(Debug)]
pub(crate) struct Handles {
    open: Mutex<LruCache<PathBuf, Arc<File>>>,
}

impl Handles {
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            open: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// A handle on `file`'s bytes: the cached one, or the file opened now and checked to be
    /// the one the load saw (same identity, or for a fingerprinted name the same length).
    pub fn get(&self, file: &DiskFile) -> Result<Arc<File>, Unreadable> {
        if let Some(handle) = self.lock().get(&file.path) {
            return Ok(handle.clone());
        }
        let handle = File::open(&file.path).map_err(|source| Unreadable::Open {
            path: file.path.clone(),
            source,
        })?;
        let meta = handle.metadata().map_err(|source| Unreadable::Open {
            path: file.path.clone(),
            source,
        })?;
        let same = meta.is_file()
            && meta.len() == file.len
            && (file.immutable || identity(&meta) == file.id);
        if !same {
            return Err(Unreadable::Replaced {
                path: file.path.clone(),
            });
        }
        let handle = Arc::new(handle);
        self.lock().put(file.path.clone(), handle.clone());
        Ok(handle)
    }

    /// How many handles are open in the cache.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<PathBuf, Arc<File>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A file's device and inode (zeros where the platform has none).
pub(crate) fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (0, 0)
    }
}
