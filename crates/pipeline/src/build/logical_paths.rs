//! Logical paths (`--logical-paths link|copy`): every renamed file of the new build, and each
//! of its variants, also placed at its logical path in the staged tree (`css/app.css` beside
//! `css/app.Xk3p9Qa1bC-_.css`, `css/app.css.br` beside its `.br`), so that a static host
//! answers the names code builds at run time as `assetc serve` does. Only the newest
//! generation's: a logical path always names the current bytes. `verify` expects them
//! when the generation's record says they were written; `clean` never removes them.

use std::fs;
use std::io;
use std::path::Path;

use assetc_core::Manifest;
use rayon::prelude::*;

use crate::build::options::LogicalPaths;
use crate::error::BuildError;

/// Every (served, logical) pair of files to place: renamed entries and their variants
/// (also what `assetc publish` uploads at logical paths).
pub fn pairs(manifest: &Manifest) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (logical, entry) in &manifest.entries {
        if entry.path == *logical {
            continue;
        }
        pairs.push((entry.path.clone(), logical.clone()));
        for variant in entry.variants.values() {
            if let Some(suffix) = variant.path.strip_prefix(&entry.path) {
                pairs.push((variant.path.clone(), format!("{logical}{suffix}")));
            }
        }
    }
    pairs
}

/// Places the logical paths of `manifest`'s renamed files in `staging`, which holds the
/// served files already.
pub(crate) fn write(
    staging: &Path,
    manifest: &Manifest,
    mode: LogicalPaths,
) -> Result<(), BuildError> {
    if mode == LogicalPaths::None {
        return Ok(());
    }
    pairs(manifest)
        .par_iter()
        .try_for_each(|(served, logical)| {
            let (from, to) = (staging.join(served), staging.join(logical));
            let placed = match mode {
                LogicalPaths::Link => fs::hard_link(&from, &to).or_else(|e| {
                    // A file system without hard links still gets the files.
                    if e.kind() == io::ErrorKind::AlreadyExists {
                        Err(e)
                    } else {
                        copy_new(&from, &to)
                    }
                }),
                LogicalPaths::Copy | LogicalPaths::None => copy_new(&from, &to),
            };
            match placed {
                Ok(()) => Ok(()),
                // Only a file named like another's fingerprinted name (or a kept older
                // generation's) can be there already.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(BuildError::NameClash {
                    a: logical.clone(),
                    b: "a fingerprinted file of this or a kept build".into(),
                    served: logical.clone(),
                }),
                Err(source) => Err(BuildError::Io { path: to, source }),
            }
        })
}

/// Copies `from` to a new file `to`, failing with `AlreadyExists` rather than replacing one.
fn copy_new(from: &Path, to: &Path) -> io::Result<()> {
    let mut source = fs::File::open(from)?;
    let mut target = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)?;
    io::copy(&mut source, &mut target).map(drop)
}
