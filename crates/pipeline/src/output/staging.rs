//! Atomic output: a new tree is written in a staging directory beside the output and
//! exchanged with the current tree in one step, so readers see the old build or the new
//! one, never a mix, and a build killed at any moment leaves the old one whole.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::BuildError;

/// A staging directory being filled. Dropped without [`Staging::commit`], it is removed.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    output: PathBuf,
    committed: bool,
    /// The output's lock, held until the staging directory is committed or removed: a
    /// second build into the same output fails instead of removing this one's staging
    /// directory.
    _lock: Lock,
}

/// An exclusive `flock` on the output's lock file, `.<output>.assetc-lock` beside it (not on
/// the output itself, which a build swaps for another directory, nor on the parent, which
/// would make builds into `build/` and `dist/` side by side exclude each other). Builds and
/// `clean` take it; it is released when dropped. The file stays: removing it would let two
/// processes lock two different files of one name.
#[derive(Debug)]
pub struct Lock(#[allow(dead_code)] fs::File);

/// Takes the lock of `output` (creating its parent), or fails with [`BuildError::Busy`].
pub fn lock(output: &Path) -> Result<Lock, BuildError> {
    let parent = parent_of(output);
    fs::create_dir_all(parent).map_err(BuildError::io(parent))?;
    let path = parent.join(format!(".{}.assetc-lock", output_name(output)));
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(BuildError::io(&path))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Lock(file)),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(BuildError::Busy {
            output: output.to_path_buf(),
        }),
        Err(e) => Err(BuildError::Io {
            path,
            source: e.into(),
        }),
    }
}

fn parent_of(output: &Path) -> &Path {
    output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn output_name(output: &Path) -> String {
    output
        .file_name()
        .map_or_else(|| "build".into(), |n| n.to_string_lossy().into_owned())
}

/// The name prefix of staging directories for `output`: hidden, and beside it so that the
/// final rename stays on one filesystem.
fn staging_prefix(output: &Path) -> String {
    format!(".{}.assetc-staging-", output_name(output))
}

/// Takes the lock of `output` and removes the staging directories that earlier, killed
/// builds left beside it: a build's first step, before it reads what the output holds.
pub fn lock_and_tidy(output: &Path) -> Result<Lock, BuildError> {
    let lock = lock(output)?;
    let parent = parent_of(output);
    let prefix = staging_prefix(output);
    for entry in fs::read_dir(parent).map_err(BuildError::io(parent))? {
        let entry = entry.map_err(BuildError::io(parent))?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            remove_tree(&entry.path()).map_err(BuildError::io(entry.path()))?;
        }
    }
    Ok(lock)
}

impl Staging {
    /// Removes staging directories that earlier, killed builds left beside `output`, then
    /// creates a fresh one.
    pub fn begin(output: &Path) -> Result<Self, BuildError> {
        Self::begin_locked(output, lock_and_tidy(output)?)
    }

    /// Creates a fresh staging directory for `output`, whose lock (from [`lock_and_tidy`])
    /// it then holds.
    pub fn begin_locked(output: &Path, lock: Lock) -> Result<Self, BuildError> {
        let dir =
            parent_of(output).join(format!("{}{}", staging_prefix(output), std::process::id()));
        fs::create_dir(&dir).map_err(BuildError::io(&dir))?;
        Ok(Self {
            dir,
            output: output.to_path_buf(),
            committed: false,
            _lock: lock,
        })
    }

    /// The directory to write the new tree into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the staged tree the output in one step and removes the previous tree.
    pub fn commit(mut self) -> Result<(), BuildError> {
        if self.output.exists() {
            exchange(&self.dir, &self.output).map_err(BuildError::io(&self.output))?;
            // The staging path now holds the previous tree; removing it is cleanup, and a
            // failure here leaves a hidden directory that the next build removes.
            let _ = remove_tree(&self.dir);
        } else {
            fs::rename(&self.dir, &self.output).map_err(BuildError::io(&self.output))?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = remove_tree(&self.dir);
        }
    }
}

/// Removes the tree at `path`, its top-level entries in parallel: the unlink of every file
/// of a replaced tree was a tenth of a one-file rebuild, serial, and directories apart do
/// not contend for one directory's lock. Symbolic links are removed, never followed.
fn remove_tree(path: &Path) -> io::Result<()> {
    use rayon::prelude::*;

    let gone = |r: io::Result<()>| match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    };
    // Not followed if it is a link (a leftover's name is only a pattern): removed itself.
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
        Ok(meta) if !meta.is_dir() => return gone(fs::remove_file(path)),
        Ok(_) => {}
    }
    let entries: Vec<fs::DirEntry> = match fs::read_dir(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
        Ok(entries) => entries.collect::<io::Result<_>>()?,
    };
    entries.par_iter().try_for_each(|entry| {
        gone(if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())
        } else {
            fs::remove_file(entry.path())
        })
    })?;
    gone(fs::remove_dir(path))
}

/// Swaps two directories atomically (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

/// Elsewhere there is no atomic exchange: the old tree is renamed aside and the new one
/// renamed into place, leaving a moment in which the output path does not exist.
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    let aside = a.with_extension("previous");
    fs::rename(b, &aside)?;
    fs::rename(a, b)?;
    fs::rename(&aside, a)
}

/// Creates the directory `path` goes in, and its parents, when missing.
pub(crate) fn create_parent(path: &Path) -> Result<(), BuildError> {
    match path.parent() {
        Some(parent) => fs::create_dir_all(parent).map_err(BuildError::io(parent)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_exchanges_and_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("build");
        fs::create_dir(&output).unwrap();
        fs::write(output.join("old"), "old").unwrap();

        let staging = Staging::begin(&output).unwrap();
        fs::write(staging.dir().join("new"), "new").unwrap();
        let staged = staging.dir().to_path_buf();
        drop(staging);
        assert!(
            !staged.exists(),
            "an abandoned staging directory is removed"
        );
        assert!(output.join("old").exists());

        let staging = Staging::begin(&output).unwrap();
        fs::write(staging.dir().join("new"), "new").unwrap();
        staging.commit().unwrap();
        assert!(output.join("new").exists() && !output.join("old").exists());
        let mut leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        leftovers.sort();
        assert_eq!(leftovers, [".build.assetc-lock", "build"]);
    }

    #[test]
    fn a_replaced_tree_is_removed_whole_and_its_links_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let (output, elsewhere) = (dir.path().join("build"), dir.path().join("elsewhere"));
        fs::create_dir_all(elsewhere.join("d")).unwrap();
        fs::write(elsewhere.join("d/kept"), "kept").unwrap();
        for d in ["a/b/c", "x", "y/z"] {
            fs::create_dir_all(output.join(d)).unwrap();
            fs::write(output.join(d).join("f"), d).unwrap();
        }
        fs::write(output.join("top"), "top").unwrap();
        std::os::unix::fs::symlink(&elsewhere, output.join("link-to-dir")).unwrap();
        std::os::unix::fs::symlink(elsewhere.join("d"), output.join("x/link")).unwrap();

        let staging = Staging::begin(&output).unwrap();
        fs::write(staging.dir().join("new"), "new").unwrap();
        let staged = staging.dir().to_path_buf();
        staging.commit().unwrap();
        assert!(!staged.exists(), "the replaced tree is gone");
        let names: Vec<_> = fs::read_dir(&output)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["new"]);
        assert_eq!(fs::read(elsewhere.join("d/kept")).unwrap(), b"kept");
    }

    #[test]
    fn a_second_build_into_the_same_output_is_refused_while_one_runs() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("build");
        let first = Staging::begin(&output).unwrap();
        assert!(matches!(
            Staging::begin(&output),
            Err(BuildError::Busy { .. })
        ));
        assert!(
            first.dir().exists(),
            "the running build's staging directory is untouched"
        );
        drop(first);
        Staging::begin(&output).unwrap();
    }

    #[test]
    fn builds_into_outputs_side_by_side_do_not_exclude_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let build = Staging::begin(&dir.path().join("build")).unwrap();
        let dist = Staging::begin(&dir.path().join("dist")).unwrap();
        build.commit().unwrap();
        dist.commit().unwrap();
        assert!(dir.path().join("build").is_dir() && dir.path().join("dist").is_dir());
    }

    #[test]
    fn leftovers_of_killed_builds_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out");
        let stale = dir.path().join(".out.assetc-staging-999999");
        fs::create_dir_all(stale.join("x")).unwrap();
        // A link under a leftover's name is removed, never followed.
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        fs::write(elsewhere.join("kept"), "kept").unwrap();
        let link = dir.path().join(".out.assetc-staging-888888");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        let staging = Staging::begin(&output).unwrap();
        assert!(!stale.exists());
        assert!(fs::symlink_metadata(&link).is_err());
        assert_eq!(fs::read(elsewhere.join("kept")).unwrap(), b"kept");
        staging.commit().unwrap();
        assert!(output.is_dir());
    }
}
