//! Keeping a build directory healthy: `clean` removes the files of generations no longer
//! kept, `verify` re-hashes every file against the manifests and finds what is missing,
//! corrupted or extra.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::Path;

use assetc_core::fingerprint::hex;
use assetc_core::generations::{
    generation_manifest_path, retain, Generation, Generations, GENERATIONS_FILE, STATE_DIR,
};
use assetc_core::{Manifest, MANIFEST_FILE_NAME};
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use crate::build::logical_paths;
use crate::build::options::LogicalPaths;
use crate::error::BuildError;
use crate::output::records::Records;
use crate::output::refs::refs_path;
use crate::output::staging::lock;

/// Every file a set of generations needs: the current build's entries (entry points
/// included, and its logical paths if it wrote them) and the fingerprinted files of the
/// others, with their variants.
fn needed(
    records: &Records,
    manifests: &BTreeMap<String, Manifest>,
    ids: &[&str],
) -> BTreeMap<String, Expected> {
    let mut files = BTreeMap::new();
    add_entries(&mut files, &records.manifest, false);
    // The current build's logical paths, when it wrote them: each is what its served file is.
    if records.logical_paths() != LogicalPaths::None {
        for (served, logical) in logical_paths::pairs(&records.manifest) {
            if let Some(expected) = files.get(&served).cloned() {
                files.entry(logical).or_insert(expected);
            }
        }
    }
    for id in ids {
        if let Some(m) = manifests.get(*id) {
            add_entries(&mut files, m, true);
        }
    }
    files
}

/// What a file must be.
#[derive(Debug, Clone)]
enum Expected {
    /// A file the manifests list.
    File { size: u64, sha256: String },
    /// A kept generation's manifest, which is there but cannot be read.
    UnreadableManifest,
}

/// What is wrong with a file.
enum Problem {
    Missing,
    Corrupted(String),
}

fn add_entries(files: &mut BTreeMap<String, Expected>, manifest: &Manifest, immutable_only: bool) {
    for entry in manifest.entries.values() {
        if immutable_only && !entry.immutable {
            continue;
        }
        files.entry(entry.path.clone()).or_insert(Expected::File {
            size: entry.size,
            sha256: entry.sha256.clone(),
        });
        for v in entry.variants.values() {
            files.entry(v.path.clone()).or_insert(Expected::File {
                size: v.size,
                sha256: v.sha256.clone(),
            });
        }
    }
}

/// What `clean` removed (or, with `dry_run`, would remove).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CleanReport {
    pub removed_generations: Vec<String>,
    pub kept_generations: Vec<String>,
    /// Files removed, relative to the root.
    pub removed_files: Vec<String>,
    pub removed_bytes: u64,
    pub dry_run: bool,
}

/// Removes the generations that are neither among the newest `keep` nor younger than
/// `keep_age` seconds at `now`, and every file that only they needed.
pub fn clean(
    root: &Path,
    keep: usize,
    keep_age: i64,
    now: i64,
    dry_run: bool,
) -> Result<CleanReport, BuildError> {
    // The same lock as a build's: a build links kept files this might remove.
    let _lock = lock(root)?;
    let records = Records::open(root)?;
    let manifests = records.generation_manifests();
    let kept = retain(records.generations.clone(), now, keep, keep_age);
    let kept_ids: BTreeSet<&str> = kept.iter().map(|g| g.id.as_str()).collect();
    let removed: Vec<&Generation> = records
        .generations
        .iter()
        .filter(|g| !kept_ids.contains(g.id.as_str()))
        .collect();
    let mut report = CleanReport {
        kept_generations: kept.iter().map(|g| g.id.clone()).collect(),
        removed_generations: removed.iter().map(|g| g.id.clone()).collect(),
        dry_run,
        ..CleanReport::default()
    };
    if removed.is_empty() {
        return Ok(report);
    }
    let needed = needed(
        &records,
        &manifests,
        &kept_ids.iter().copied().collect::<Vec<_>>(),
    );
    let mut candidates = BTreeSet::new();
    for g in &removed {
        if let Some(m) = manifests.get(&g.id) {
            for entry in m.entries.values().filter(|e| e.immutable) {
                candidates.insert(entry.path.clone());
                candidates.extend(entry.variants.values().map(|v| v.path.clone()));
            }
        }
    }
    for path in candidates.into_iter().filter(|p| !needed.contains_key(p)) {
        let full = root.join(&path);
        if let Ok(meta) = fs::symlink_metadata(&full) {
            report.removed_bytes += meta.len();
            report.removed_files.push(path);
        }
    }
    if dry_run {
        return Ok(report);
    }
    // The record first: were this interrupted, the files left are extra, never missing.
    let record = Generations { generations: kept };
    let path = root.join(GENERATIONS_FILE);
    let tmp = root.join(STATE_DIR).join("generations.json.tmp");
    fs::write(&tmp, record.to_json()).map_err(BuildError::io(&tmp))?;
    fs::rename(&tmp, &path).map_err(BuildError::io(&path))?;
    for path in &report.removed_files {
        let full = root.join(path);
        fs::remove_file(&full).map_err(BuildError::io(&full))?;
        remove_empty_parents(root, &full);
    }
    for g in &removed {
        let _ = fs::remove_file(root.join(generation_manifest_path(&g.id)));
        let _ = fs::remove_file(root.join(refs_path(&g.id)));
    }
    Ok(report)
}

fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// What `verify` found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct VerifyReport {
    /// Files checked (every file a kept generation needs).
    pub checked: usize,
    pub missing: Vec<String>,
    /// `(path, what is wrong)`.
    pub corrupted: Vec<(String, String)>,
    /// Files outside `.assetc/` that no kept generation lists.
    pub extra: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.missing.is_empty() && self.corrupted.is_empty() && self.extra.is_empty()
    }
}

/// Re-hashes every file the kept generations need and lists what is missing, corrupted or
/// extra.
pub fn verify(root: &Path) -> Result<VerifyReport, BuildError> {
    let records = Records::open(root)?;
    let manifests = records.generation_manifests();
    let ids: Vec<&str> = records.generations.iter().map(|g| g.id.as_str()).collect();
    let mut needed = needed(&records, &manifests, &ids);
    for g in &records.generations {
        if !manifests.contains_key(&g.id) {
            needed.insert(
                generation_manifest_path(&g.id),
                Expected::UnreadableManifest,
            );
        }
    }
    let results: Vec<(String, Result<(), Problem>)> = needed
        .par_iter()
        .map(|(path, expected)| {
            (
                path.clone(),
                check_file(&records.root().join(path), expected),
            )
        })
        .collect();
    let mut report = VerifyReport {
        checked: results.len(),
        ..VerifyReport::default()
    };
    for (path, result) in results {
        match result {
            Ok(()) => {}
            Err(Problem::Missing) => report.missing.push(path),
            Err(Problem::Corrupted(reason)) => report.corrupted.push((path, reason)),
        }
    }
    for entry in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let entry = entry.map_err(|e| BuildError::Io {
            path: e
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| root.to_path_buf()),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("walk failed")),
        })?;
        if entry.file_type().is_dir() {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let rel = rel
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        if rel == MANIFEST_FILE_NAME
            || rel.starts_with(&format!("{STATE_DIR}/"))
            || needed.contains_key(&rel)
        {
            continue;
        }
        report.extra.push(rel);
    }
    Ok(report)
}

fn check_file(path: &Path, expected: &Expected) -> Result<(), Problem> {
    let corrupted = |reason: String| Problem::Corrupted(reason);
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Problem::Missing),
        Err(e) => return Err(corrupted(e.to_string())),
    };
    if !meta.is_file() {
        return Err(corrupted("not a regular file".into()));
    }
    let Expected::File { size, sha256 } = expected else {
        return Err(corrupted("unreadable generation manifest".into()));
    };
    if meta.len() != *size {
        return Err(corrupted(format!("size {} instead of {size}", meta.len())));
    }
    let mut file = fs::File::open(path).map_err(|e| corrupted(e.to_string()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(corrupted(e.to_string())),
        }
    }
    let actual = hex(&hasher.finalize().into());
    if actual != *sha256 {
        return Err(corrupted(format!(
            "sha256 {} instead of {}",
            &actual[..16],
            &sha256[..sha256.len().min(16)]
        )));
    }
    Ok(())
}
