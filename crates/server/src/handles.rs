//! Bodies that are not held in memory are read from files opened on demand, through a
//! bounded cache of open handles: a build of any size costs at most `capacity`
//! descriptors, not one per file. Only paths computed at load from the manifest are ever
//! opened, never one derived from a request, and always strictly beneath the build root.

use std::fs::File;
use std::io;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::web::Bytes;
use lru::LruCache;

use crate::body::read_range;

/// Where one representation's bytes are on disk, as the load found them.
#[derive(Debug, Clone)]
pub(crate) struct DiskFile {
    /// The manifest's served path (relative to the build root), checked at load to be a
    /// normal relative path.
    pub served: Box<str>,
    pub len: u64,
    /// Device and inode at load: a file at the path with another identity holds another
    /// build's bytes, unless the name is fingerprinted. `None`: a fingerprinted file whose
    /// check was deferred to its first open (its length and kind are checked then).
    pub id: Option<(u64, u64)>,
    /// A fingerprinted name: any file there of this length has these bytes (the name
    /// carries their hash), so a deploy that linked it into a new tree changes nothing.
    pub immutable: bool,
}

/// Why a file the manifest lists cannot be read now.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unreadable {
    #[error("cannot open `{path}`", path = path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("`{path}` resolves outside the build root", path = path.display())]
    Outside { path: PathBuf },
    #[error("`{path}` is now another file than the build's (a deploy replaced it before the reload)", path = path.display())]
    Replaced { path: PathBuf },
}

/// The open handles of one loaded build, least recently used evicted first. A handle
/// evicted while a response still streams from it stays open until that response ends.
#[derive(Debug)]
pub(crate) struct Handles {
    /// The build root as given (not canonicalised): after a deploy that swapped a new tree
    /// in under this name, a fingerprinted file opens from the new tree (the same bytes).
    root: PathBuf,
    /// By served path: a cache belongs to one build, so to one root.
    open: Mutex<LruCache<Box<str>, Arc<File>>>,
}

impl Handles {
    pub fn new(capacity: usize, root: PathBuf) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            root,
            open: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// A handle on `file`'s bytes: the cached one, or the file opened now beneath the root
    /// and checked to be the one the load saw (same identity, or for a fingerprinted name
    /// a regular file of the same length).
    pub fn get(&self, file: &DiskFile) -> Result<Arc<File>, Unreadable> {
        if let Some(handle) = self.lock().get(&*file.served) {
            return Ok(handle.clone());
        }
        let handle = Arc::new(self.open_checked(file)?);
        self.lock().put(file.served.clone(), handle.clone());
        Ok(handle)
    }

    /// `file` opened beneath the root and checked as [`Handles::get`] does, not cached.
    fn open_checked(&self, file: &DiskFile) -> Result<File, Unreadable> {
        let path = || self.root.join(&*file.served);
        let (handle, meta) = Beneath::new(&self.root)
            .map_err(Refused::Io)
            .and_then(|beneath| beneath.open_file(&file.served, file.len))
            .map_err(|refused| match refused {
                Refused::Outside => Unreadable::Outside { path: path() },
                Refused::Io(source) => Unreadable::Open {
                    path: path(),
                    source,
                },
                Refused::NotAFile | Refused::Size { .. } => Unreadable::Replaced { path: path() },
            })?;
        if !file.immutable && Some(identity(&meta)) != file.id {
            return Err(Unreadable::Replaced { path: path() });
        }
        Ok(handle)
    }

    /// How many handles are open in the cache.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<Box<str>, Arc<File>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A small fingerprinted file the memory budget holds, read into memory by the first
/// request that needs its bytes rather than at load: a large build's start-up then reads
/// and keeps none of them (at 100,000 files, 64 MB of resident memory and a tenth of the
/// start-up's CPU). Its name carries its hash, so the bytes read later are the bytes its
/// ETag and length describe; the read opens it as [`Handles::get`] does (beneath the
/// root, a regular file of its length), so a deploy that removed it answers 503 until
/// the reload, never other bytes. Entry points are never lazy: their bytes change under
/// one name, and only a read at load gives the bytes the manifest describes.
#[derive(Debug)]
pub(crate) struct LazyFile {
    pub file: DiskFile,
    bytes: OnceLock<Bytes>,
}

impl LazyFile {
    pub fn new(file: DiskFile) -> Self {
        debug_assert!(file.immutable, "only a fingerprinted file is read lazily");
        Self {
            file,
            bytes: OnceLock::new(),
        }
    }

    /// The bytes, once read.
    pub fn get(&self) -> Option<&Bytes> {
        self.bytes.get()
    }

    /// The bytes, read now through `handles`' checked open if no request read them before.
    /// Two first requests at once may both read the file: the same bytes, one kept.
    pub fn load(&self, handles: &Handles) -> Result<&Bytes, Unreadable> {
        if let Some(bytes) = self.bytes.get() {
            return Ok(bytes);
        }
        let handle = handles.open_checked(&self.file)?;
        let len = usize::try_from(self.file.len).expect("a file in the memory budget fits");
        let bytes = read_range(&handle, len, 0).map_err(|source| Unreadable::Open {
            path: handles.root.join(&*self.file.served),
            source,
        })?;
        Ok(self.bytes.get_or_init(|| bytes))
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

/// Why a file the manifest names is refused.
pub(crate) enum Refused {
    Io(std::io::Error),
    Outside,
    NotAFile,
    Size { actual: u64, expected: u64 },
}

/// Opens files by manifest path strictly beneath a build root: on Linux in one
/// `openat2(RESOLVE_BENEATH)` from a descriptor of the root (the kernel refuses any `..`
/// or symlink that leaves it); elsewhere by canonicalising and comparing prefixes.
pub(crate) struct Beneath<'a> {
    root: &'a Path,
    #[cfg(target_os = "linux")]
    dir: std::os::fd::OwnedFd,
}

impl<'a> Beneath<'a> {
    /// The root's descriptor (`O_PATH`: only a starting point for lookups), following a
    /// symlinked root to the tree it names now.
    pub fn new(root: &'a Path) -> std::io::Result<Self> {
        Ok(Self {
            root,
            #[cfg(target_os = "linux")]
            dir: rustix::fs::open(
                root,
                rustix::fs::OFlags::DIRECTORY
                    | rustix::fs::OFlags::PATH
                    | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )?,
        })
    }

    #[cfg(target_os = "linux")]
    pub fn open(&self, served: &str) -> Result<File, Refused> {
        use rustix::fs::{Mode, OFlags, ResolveFlags};
        match rustix::fs::openat2(
            &self.dir,
            served,
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::empty(),
            ResolveFlags::BENEATH,
        ) {
            Ok(fd) => Ok(File::from(fd)),
            Err(rustix::io::Errno::XDEV) => Err(Refused::Outside),
            // Kernels before 5.6 have no openat2: the portable check.
            Err(rustix::io::Errno::NOSYS) => self.open_portable(served),
            Err(e) => Err(Refused::Io(e.into())),
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn open(&self, served: &str) -> Result<File, Refused> {
        self.open_portable(served)
    }

    /// Opens `served` beneath the root and checks it is a regular file of `size` bytes: the
    /// check at load and at every later open.
    pub fn open_file(&self, served: &str, size: u64) -> Result<(File, std::fs::Metadata), Refused> {
        let file = self.open(served)?;
        let meta = file.metadata().map_err(Refused::Io)?;
        if !meta.is_file() {
            return Err(Refused::NotAFile);
        }
        if meta.len() != size {
            return Err(Refused::Size {
                actual: meta.len(),
                expected: size,
            });
        }
        Ok((file, meta))
    }

    fn open_portable(&self, served: &str) -> Result<File, Refused> {
        let canonical_root = self.root.canonicalize().map_err(Refused::Io)?;
        let canonical = canonical_root
            .join(served)
            .canonicalize()
            .map_err(Refused::Io)?;
        if !canonical.starts_with(&canonical_root) {
            return Err(Refused::Outside);
        }
        File::open(&canonical).map_err(Refused::Io)
    }
}
