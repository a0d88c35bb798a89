//! A build directory's records, read in one place for the build (what the current output
//! holds and can give the next build), `clean`, `verify`, `explain` and `report`:
//! `assetc-manifest.json`, `.assetc/generations.json`, and each kept generation's manifest
//! and reference record (`output::refs`).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use assetc_core::generations::{
    generation_manifest_path, Generation, Generations, GENERATIONS_FILE,
};
use assetc_core::manifest::ManifestRef;
use assetc_core::{Entry, Manifest, MANIFEST_FILE_NAME};

use crate::build::options::{split_config_key, LogicalPaths};
use crate::error::BuildError;
use crate::output::explain::Snapshot;
use crate::output::refs::{refs_path, RefsRecord};

/// Entries the output holds, by served path ([`Records::reusable`]).
pub type Reusable<'a> = HashMap<Cow<'a, str>, Cow<'a, Entry>>;

/// The build in a directory, as its records describe it.
#[derive(Debug)]
pub struct Records {
    root: PathBuf,
    /// The current build's manifest.
    pub manifest: Manifest,
    /// The kept generations, newest first; empty when the build has no record.
    pub generations: Vec<Generation>,
}

impl Records {
    /// The build in `root`, or None when `root` is missing or empty. A directory that holds
    /// files but no manifest is not a build, and is never taken for one.
    pub fn read(root: &Path) -> Result<Option<Self>, BuildError> {
        RecordsJson::read(root)?.map(RecordsJson::parse).transpose()
    }

    /// These records with the current manifest's entries let go, for a caller that needs
    /// only the generations and the files on disk.
    pub(crate) fn without_entries(mut self) -> Self {
        self.manifest.entries = Default::default();
        self
    }

    /// [`Records::read`] for a command that needs a build there.
    pub fn open(root: &Path) -> Result<Self, BuildError> {
        Self::read(root)?.ok_or_else(|| BuildError::NotABuild {
            path: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What produced the current build's variants (its generation's config key).
    pub fn config_key(&self) -> Option<&str> {
        config_key(&self.generations)
    }

    /// Whether the current build holds its renamed files at their logical paths too.
    pub fn logical_paths(&self) -> LogicalPaths {
        self.config_key()
            .map_or(LogicalPaths::None, |key| split_config_key(key).1)
    }

    /// The manifest of a kept generation; None when it is missing or unreadable (an older
    /// generation's problem never stops the work on the newest).
    pub fn generation_manifest(&self, id: &str) -> Option<Manifest> {
        Manifest::from_json(&fs::read(self.generation_file(id)).ok()?).ok()
    }

    /// The reference record of a kept generation; None when it is missing, unreadable or of
    /// another version (a generation built before assetc kept them).
    pub fn generation_refs(&self, id: &str) -> Option<RefsRecord> {
        RefsRecord::from_json(&fs::read(self.root.join(refs_path(id))).ok()?)
    }

    /// A kept generation's records, for `explain`: the newest one's manifest is the
    /// build's own. None when `id` is not kept or its manifest cannot be read.
    pub fn snapshot(&self, id: &str) -> Option<Snapshot> {
        let position = self.generations.iter().position(|g| g.id == id)?;
        let manifest = if position == 0 {
            self.manifest.clone()
        } else {
            self.generation_manifest(id)?
        };
        Some(Snapshot {
            id: id.to_owned(),
            manifest,
            refs: self.generation_refs(id),
        })
    }

    /// The readable manifests of every kept generation, by id.
    pub fn generation_manifests(&self) -> BTreeMap<String, Manifest> {
        self.generations
            .iter()
            .filter_map(|g| Some((g.id.clone(), self.generation_manifest(&g.id)?)))
            .collect()
    }

    /// Entries whose files the output holds, by served path, if they were produced with
    /// `config_key` (so their variants are what a build with that key would write): the
    /// current build's first, then the older generations'.
    /// The current build's entries are borrowed, not copied (at 100,000 files a copy is
    /// 70 MB); an older generation's are read and only those the newer ones lack kept.
    pub fn reusable(&self, config_key: &str) -> Reusable<'_> {
        // Only the compression part matters: the logical paths are links to the same files.
        let compress = |key: &str| split_config_key(key).0.to_owned();
        if self.config_key().map(compress) != Some(compress(config_key)) {
            return HashMap::new();
        }
        let mut map: Reusable<'_> = self
            .manifest
            .entries
            .values()
            .map(|entry| (Cow::Borrowed(entry.path.as_str()), Cow::Borrowed(entry)))
            .collect();
        // Older generations are read one at a time and borrowed: only an entry the newer
        // ones lack is made owned (a rebuild's older manifests are mostly the same files).
        for generation in self.generations.iter().skip(1) {
            self.with_generation(&generation.id, |manifest| {
                for (_, entry) in &manifest.entries {
                    if !map.contains_key(entry.path.as_str()) {
                        if let Ok(entry) = entry.to_entry() {
                            map.insert(Cow::Owned(entry.path.clone()), Cow::Owned(entry));
                        }
                    }
                }
            });
        }
        map
    }

    /// `f` of a kept generation's manifest, borrowed from its JSON; None when it cannot be
    /// read (as [`Records::generation_manifest`]).
    pub fn with_generation<T>(&self, id: &str, f: impl FnOnce(&ManifestRef<'_>) -> T) -> Option<T> {
        with_manifest_at(&self.generation_file(id), f)
    }

    /// The path of a kept generation's manifest.
    pub fn generation_file(&self, id: &str) -> PathBuf {
        self.root.join(generation_manifest_path(id))
    }
}

/// A build directory's records as [`Records::read`] finds them, with the manifest still its
/// JSON: what a build compares against first (borrowing its strings, a fraction of the
/// owned form's memory) and parses only when it must reuse entries.
#[derive(Debug)]
pub struct RecordsJson {
    root: PathBuf,
    manifest: Vec<u8>,
    generations: Vec<Generation>,
}

impl RecordsJson {
    /// [`Records::read`], the manifest unparsed.
    pub fn read(root: &Path) -> Result<Option<Self>, BuildError> {
        let Some(manifest) = read_manifest(root)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            root: root.to_path_buf(),
            manifest,
            generations: read_generations(root)?,
        }))
    }

    /// Refuses at once what [`RecordsJson::read`] would refuse for what `root` holds but
    /// the manifest's JSON (files but no manifest; a generations record that cannot be
    /// read), without reading that: a build checks this before its work and reads the
    /// records after it.
    pub fn probe(root: &Path) -> Result<(), BuildError> {
        let path = root.join(MANIFEST_FILE_NAME);
        match fs::symlink_metadata(&path) {
            Ok(_) => read_generations(root).map(drop),
            Err(e) if e.kind() == io::ErrorKind::NotFound => no_build(root),
            Err(e) => Err(BuildError::Io { path, source: e }),
        }
    }

    /// The current build's manifest borrowed from its JSON, checked as
    /// [`RecordsJson::parse`] checks it.
    pub fn manifest(&self) -> Result<ManifestRef<'_>, BuildError> {
        ManifestRef::from_json(&self.manifest).map_err(|e| self.manifest_error(e))
    }

    fn manifest_error(&self, e: assetc_core::manifest::ManifestError) -> BuildError {
        BuildError::PreviousManifest {
            path: self.root.join(MANIFEST_FILE_NAME),
            source: e.into(),
        }
    }

    /// What produced the current build's variants (its generation's config key).
    pub fn config_key(&self) -> Option<&str> {
        config_key(&self.generations)
    }

    /// The kept generations, newest first; empty when the build has no record.
    pub fn generations(&self) -> &[Generation] {
        &self.generations
    }

    /// The records, with the manifest parsed (owned) and its JSON let go.
    pub fn parse(self) -> Result<Records, BuildError> {
        let manifest = Manifest::from_json(&self.manifest).map_err(|e| self.manifest_error(e))?;
        Ok(Records {
            root: self.root,
            manifest,
            generations: self.generations,
        })
    }
}

/// `f` of the manifest at `path`, borrowed from its JSON (read for this call alone: owned,
/// a manifest is 80 MB at 100,000 files, and a build reads each kept generation's); None
/// when it cannot be read or is not a manifest of this version.
pub(crate) fn with_manifest_at<T>(path: &Path, f: impl FnOnce(&ManifestRef<'_>) -> T) -> Option<T> {
    let json = fs::read(path).ok()?;
    Some(f(&ManifestRef::from_json(&json).ok()?))
}

/// The config key of the newest of `generations`.
fn config_key(generations: &[Generation]) -> Option<&str> {
    generations.first().map(|g| g.config.as_str())
}

/// The kept generations `root`'s record lists, newest first; none without a record.
fn read_generations(root: &Path) -> Result<Vec<Generation>, BuildError> {
    let path = root.join(GENERATIONS_FILE);
    match fs::read(&path) {
        Ok(bytes) => Generations::from_json(&bytes)
            .map(|g| g.generations)
            .map_err(|e| BuildError::PreviousManifest {
                path,
                source: e.into(),
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(BuildError::Io { path, source: e }),
    }
}

/// The manifest's JSON of the build in `root`, if there is one.
fn read_manifest(root: &Path) -> Result<Option<Vec<u8>>, BuildError> {
    let path = root.join(MANIFEST_FILE_NAME);
    match fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => no_build(root).map(|()| None),
        Err(e) => Err(BuildError::Io { path, source: e }),
    }
}

/// Ok for a missing or empty `root`, which has no build; a directory that holds files but
/// no manifest is not a build.
fn no_build(root: &Path) -> Result<(), BuildError> {
    let empty = match fs::read_dir(root) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(e) => {
            return Err(BuildError::Io {
                path: root.to_path_buf(),
                source: e,
            })
        }
    };
    if empty {
        Ok(())
    } else {
        Err(BuildError::NotABuild {
            path: root.to_path_buf(),
        })
    }
}
