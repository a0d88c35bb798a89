//! Write: the new tree in the staging directory. Entries the output already holds are
//! hard-linked with their variants; the rest are written and compressed, in parallel, each
//! result placed by index. Then the records: the generations still kept (their files linked
//! across), each one's manifest and reference record, and the manifest itself, last.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use assetc_core::fingerprint::{
    hex, integrity, integrity_is_sha384, integrity_sha256, integrity_sha384,
};
use assetc_core::generations::{
    generation_manifest_path, retain, Generation, Generations, GENERATIONS_FILE, STATE_DIR,
};
use assetc_core::{fingerprint, strong_etag, Digest, Manifest, Variant, MANIFEST_FILE_NAME};
use rayon::prelude::*;
use sha2::{Digest as _, Sha256, Sha384};

use crate::build::compress::{compress_file, compressible, CompressOptions};
use crate::build::load::{read_from, with_buffer, Node, Stamp};
use crate::build::naming::{final_bytes, FinalBytes, Named, NamingContext};
use crate::build::options::BuildOptions;
use crate::build::Progress;
use crate::error::BuildError;
use crate::output::records::Records;
use crate::output::refs::{refs_path, Position, RefsRecord, Source};
use crate::output::scan_cache::Hashing;
use crate::output::staging::create_parent;

/// How many entries were written anew and how many linked from the output.
pub(crate) struct Tree {
    pub written: usize,
    pub reused: usize,
}

/// Writes every entry of `manifest` into `staging`: linked from `output` unless listed in
/// `to_write` (or the link fails), else written with its variants, which are recorded in
/// `manifest`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_tree(
    staging: &Path,
    output: &Path,
    ctx: &NamingContext<'_>,
    named: &[Named],
    manifest: &mut Manifest,
    to_write: &[usize],
    compress: &CompressOptions,
    progress: &dyn Progress,
) -> Result<Tree, BuildError> {
    let nodes = ctx.nodes;
    let writing: HashSet<usize> = to_write.iter().copied().collect();
    progress.phase("writing", nodes.len() as u64);
    // Every directory once, parents first, rather than a create_dir_all per file.
    let dirs: BTreeSet<&Path> = manifest
        .entries
        .values()
        .filter_map(|e| Path::new(&e.path).parent())
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    for dir in dirs {
        let dir = staging.join(dir);
        match fs::create_dir(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                fs::create_dir_all(&dir).map_err(BuildError::io(&dir))?
            }
            _ => {}
        }
    }
    let logical: Vec<&str> = nodes.iter().map(|n| n.source.logical.as_str()).collect();
    let results: Vec<(usize, Option<Written>)> = (0..nodes.len())
        .into_par_iter()
        .map(|i| {
            let entry = &manifest.entries[logical[i]];
            let target = staging.join(&entry.path);
            let variants = entry.variants.values().map(|v| v.path.as_str());
            if !writing.contains(&i) && link_entry(output, staging, &entry.path, variants).is_ok() {
                progress.advance(1);
                return Ok((i, None));
            }
            let written = write_entry(ctx, i, named, &target, compress)?;
            progress.advance(1);
            Ok((i, Some(written)))
        })
        .collect::<Result<_, BuildError>>()?;
    let mut tree = Tree {
        written: 0,
        reused: 0,
    };
    for (i, written) in results {
        match written {
            Some((integrity, variants)) => {
                let entry = manifest.entries.get_mut(logical[i]).expect("entry exists");
                entry.integrity = integrity;
                entry.variants = variants;
                tree.written += 1;
            }
            None => tree.reused += 1,
        }
    }
    Ok(tree)
}

/// This build's reference record, written to `out` one source at a time (in logical-path
/// order): each source's own digest and size, and the position and target of every
/// reference that resolved (`positions[i]`, from the scan of node `i`).
fn write_refs_record(
    nodes: &[Node],
    positions: &[Vec<(u32, u32, usize)>],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_unstable_by_key(|&i| nodes[i].source.logical.as_str());
    let files = order.into_iter().map(|i| {
        let node = &nodes[i];
        let (digest, size) = node.digest();
        let mut references: Vec<Position> = positions[i]
            .iter()
            .map(|&(line, column, target)| Position {
                column,
                line,
                target: nodes[target].source.logical.to_string(),
            })
            .collect();
        references
            .sort_by(|a, b| (a.line, a.column, &a.target).cmp(&(b.line, b.column, &b.target)));
        let source = Source {
            references,
            sha256: hex(digest),
            size,
        };
        (node.source.logical.as_str(), source)
    });
    RefsRecord::write_files_json(files, out)
}

/// Writes the records into `staging`: this generation and the earlier ones still kept
/// (whose fingerprinted files are linked across from `output`, so they stay servable), each
/// one's manifest and reference record (this build's written from `nodes` and their resolved
/// `positions`, one source at a time; an earlier one's linked as it is), the generations
/// record, and the manifest. Returns the kept generations.
pub(crate) fn write_records(
    staging: &Path,
    output: &Path,
    previous: Option<&Records>,
    manifest: &Manifest,
    refs_part: &RefsPart,
    options: &BuildOptions,
) -> Result<Vec<Generation>, BuildError> {
    let state = staging.join(STATE_DIR).join("generations");
    // The manifest is streamed to its file rather than held (60 MB at 100,000 files), and
    // hashed on the way: its generation id is the fingerprint of its bytes.
    let unnamed = state.join(".manifest.json.part");
    let digest = write_hashed(&unnamed, |out| manifest.write_json(out))?;
    let id = fingerprint(&digest);
    let generation_record = staging.join(generation_manifest_path(&id));
    fs::rename(&unnamed, &generation_record).map_err(BuildError::io(&generation_record))?;
    let mut generations = vec![Generation {
        built_at: options.now,
        id: id.clone(),
        config: options.config_key(),
    }];
    if let Some(prev) = previous {
        generations.extend(prev.generations.iter().filter(|g| g.id != id).cloned());
    }
    let kept = retain(generations, options.now, options.keep, options.keep_age);
    // What the staging tree holds: this build's files (every one written or linked by now)
    // and those linked across below. Known here rather than asked of the file system: a
    // stat per older entry was two thirds of a one-file rebuild's stats. A file missed here
    // is only linked again, which leaves the one there as it is.
    let present: HashSet<&str> = manifest
        .entries
        .values()
        .flat_map(|e| std::iter::once(&e.path).chain(e.variants.values().map(|v| &v.path)))
        .map(String::as_str)
        .collect();
    let mut linked_across: HashSet<String> = HashSet::new();
    // An older generation's records are carried over as they are, linked: its manifest is
    // only read (borrowed, one at a time) for the files to link across.
    for generation in &kept[1..] {
        let Some(linked) = previous.and_then(|p| {
            p.with_generation(&generation.id, |old| {
                for (_, entry) in old.entries.iter().filter(|(_, e)| e.immutable) {
                    let path = entry.path.as_str();
                    if !present.contains(path) && linked_across.insert(path.to_owned()) {
                        let target = staging.join(path);
                        create_parent(&target)?;
                        // A file an old generation lists but the output lacks cannot be
                        // restored; the generation stays recorded and `assetc verify`
                        // reports the missing file.
                        let variants = entry.variants.values().map(|v| v.path.as_str());
                        let _ = link_entry(output, staging, entry.path.as_str(), variants);
                    }
                }
                Ok::<(), BuildError>(())
            })
        }) else {
            continue;
        };
        linked?;
        let path = generation_manifest_path(&generation.id);
        link_or_copy(&output.join(&path), &staging.join(&path))?;
        // A generation built before assetc kept reference records has none to carry over.
        let path = refs_path(&generation.id);
        if output.join(&path).is_file() {
            link_or_copy(&output.join(&path), &staging.join(&path))?;
        }
    }
    let refs_record = staging.join(refs_path(&id));
    fs::rename(&refs_part.0, &refs_record).map_err(BuildError::io(&refs_record))?;
    let record = staging.join(GENERATIONS_FILE);
    let generations = Generations {
        generations: kept.clone(),
    };
    fs::write(&record, generations.to_json()).map_err(BuildError::io(&record))?;
    let manifest_path = staging.join(MANIFEST_FILE_NAME);
    fs::copy(&generation_record, &manifest_path).map_err(BuildError::io(&manifest_path))?;
    Ok(kept)
}

/// This build's reference record, written under a temporary name: its name is the
/// generation's id, the fingerprint of a manifest not yet complete.
pub(crate) struct RefsPart(PathBuf);

/// Writes this build's reference record into the staging tree, made one source at a time
/// from the nodes. It reads neither names nor the manifest, so it is written while the tree
/// is ([`write_records`] gives it its name).
pub(crate) fn write_refs_part(
    staging: &Path,
    nodes: &[Node],
    positions: &[Vec<(u32, u32, usize)>],
) -> Result<RefsPart, BuildError> {
    let state = staging.join(STATE_DIR).join("generations");
    fs::create_dir_all(&state).map_err(BuildError::io(&state))?;
    let part = state.join(".refs.json.part");
    write_hashed(&part, |out| write_refs_record(nodes, positions, out))?;
    Ok(RefsPart(part))
}

/// Writes a file through `write` (buffered), returning the SHA-256 of what was written.
fn write_hashed(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<Digest, BuildError> {
    let file = fs::File::create(path).map_err(BuildError::io(path))?;
    let (_, digest) = Hashing::write_through(file, write).map_err(BuildError::io(path))?;
    Ok(digest)
}

/// What writing an entry produced: its integrity and its variants.
type Written = (String, BTreeMap<String, Variant>);

/// Writes node `i`'s served file and its variants.
fn write_entry(
    ctx: &NamingContext<'_>,
    i: usize,
    all: &[Named],
    target: &Path,
    compress: &CompressOptions,
) -> Result<Written, BuildError> {
    let named = &all[i];
    let write = |bytes: &[u8]| -> Result<String, BuildError> {
        fs::write(target, bytes).map_err(BuildError::io(target))?;
        Ok(named
            .integrity
            .clone()
            .unwrap_or_else(|| integrity(&named.content_type, &named.digest, bytes)))
    };
    let integrity = match &named.bytes {
        FinalBytes::Held(bytes) => write(bytes)?,
        FinalBytes::Written => named
            .integrity
            .clone()
            .expect("a text written when named has its SRI"),
        FinalBytes::Rewrite => write(&final_bytes(ctx, i, all)?)?,
        FinalBytes::Source => {
            let node = &ctx.nodes[i];
            let sha384 = integrity_is_sha384(&named.content_type);
            let from = &node.source.path;
            match node.stamp() {
                // Its SRI needs no read of its bytes: the kernel copies them.
                Some(stamp) if !sha384 => {
                    copy_stamped(from, target, stamp)?;
                    integrity_sha256(&named.digest)
                }
                stamp => {
                    let check = stamp.map_or(Check::Digest(&named.digest), Check::Stamp);
                    match copy_verified(from, target, check, sha384)? {
                        Some(sha384) => integrity_sha384(&sha384),
                        None => integrity_sha256(&named.digest),
                    }
                }
            }
        }
    };
    let mut variants = BTreeMap::new();
    if compressible(&named.content_type) && named.size >= compress.min_size {
        for &coding in &compress.codings {
            let path = PathBuf::from(format!("{}{}", target.display(), coding.suffix()));
            let (size, digest) =
                compress_file(target, &path, coding).map_err(BuildError::io(&path))?;
            if (size as f64) <= named.size as f64 * (1.0 - compress.min_saving) {
                variants.insert(
                    coding.token().to_owned(),
                    Variant {
                        etag: strong_etag(&digest),
                        path: format!("{}{}", named.served, coding.suffix()),
                        sha256: hex(&digest),
                        size,
                    },
                );
            } else {
                fs::remove_file(&path).map_err(BuildError::io(&path))?;
            }
        }
    }
    Ok((integrity, variants))
}

/// Hard-links a record file from the current output into the staging tree (copied where
/// it cannot be linked): records are never changed in place, only replaced. One there
/// already (a generation listed twice) is that link: copying onto it would truncate the
/// live output's file through it.
fn link_or_copy(from: &Path, to: &Path) -> Result<(), BuildError> {
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(_) => fs::copy(from, to).map(|_| ()).map_err(BuildError::io(to)),
    }
}

/// Hard-links an entry and its variants from the current output into the staging tree. On
/// failure the links it made are removed again: the entry is then written, and writing
/// through a link would truncate and rewrite the live output's file under its readers.
fn link_entry<'p>(
    output: &Path,
    staging: &Path,
    path: &'p str,
    variants: impl Iterator<Item = &'p str>,
) -> std::io::Result<()> {
    let paths = std::iter::once(path).chain(variants);
    let mut linked = Vec::new();
    let link = || {
        for path in paths {
            let (from, to) = (output.join(path), staging.join(path));
            let meta = fs::symlink_metadata(&from)?;
            if !meta.is_file() {
                return Err(std::io::Error::other("not a file"));
            }
            match fs::hard_link(&from, &to) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
                Ok(()) => linked.push(to),
            }
        }
        Ok(())
    };
    let result = link();
    if result.is_err() {
        for to in linked {
            let _ = fs::remove_file(to);
        }
    }
    result
}
/// Copies `from` to `to` in the kernel (`std::io::copy` between files is `copy_file_range`
/// on Linux), checking that the file's stamp is the one it had when hashed, before and after
/// the copy: then the bytes copied are the bytes hashed ([`Stamp`]).
fn copy_stamped(from: &Path, to: &Path, stamp: Stamp) -> Result<(), BuildError> {
    let changed = || BuildError::ChangedDuringBuild {
        path: from.to_path_buf(),
    };
    let mut reader = fs::File::open(from).map_err(BuildError::io(from))?;
    let unchanged = |file: &fs::File| -> Result<bool, BuildError> {
        let meta = file.metadata().map_err(BuildError::io(from))?;
        Ok(Stamp::of(&meta) == stamp)
    };
    if !unchanged(&reader)? {
        return Err(changed());
    }
    let writer = fs::File::create(to).map_err(BuildError::io(to))?;
    let copied = copy_range(&mut reader, &writer, stamp.size()).map_err(BuildError::io(to))?;
    if copied != stamp.size() || !unchanged(&reader)? {
        return Err(changed());
    }
    Ok(())
}

/// Copies up to `size` bytes from `reader`'s position to `writer`, in the kernel
/// (`copy_file_range`), falling back to `std::io::copy` where the kernel cannot (another
/// file system before Linux 5.19, or none supporting it). `std::io::copy` makes the same
/// call, but stats both files first and reads on to a zero-length end: three system calls
/// per file that the stamp already answers (a file grown since changed its stamp).
fn copy_range(reader: &mut fs::File, writer: &fs::File, size: u64) -> std::io::Result<u64> {
    let mut copied = 0u64;
    while copied < size {
        let want = usize::try_from(size - copied)
            .unwrap_or(usize::MAX)
            .min(1 << 30);
        match rustix::fs::copy_file_range(&*reader, None, writer, None, want) {
            Ok(0) => break,
            Ok(n) => copied += n as u64,
            Err(e) if copied == 0 && fallback(e) => {
                return std::io::copy(reader, &mut &*writer);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(copied)
}

/// Whether `copy_file_range` failed for want of support rather than for the files.
fn fallback(e: rustix::io::Errno) -> bool {
    use rustix::io::Errno;
    [
        Errno::XDEV,
        Errno::NOSYS,
        Errno::OPNOTSUPP,
        Errno::INVAL,
        Errno::PERM,
    ]
    .contains(&e)
}

/// How a copy read through user space is checked to be of the bytes hashed.
#[derive(Clone, Copy)]
enum Check<'a> {
    /// The file's stamp is the one it had when hashed, before and after the read.
    Stamp(Stamp),
    /// The bytes hash to this SHA-256 again.
    Digest(&'a Digest),
}

/// Copies `from` to `to` through user space, checked as `check` says (the file may have
/// changed since it was hashed); returns the bytes' SHA-384 if `sha384` asks for it.
fn copy_verified(
    from: &Path,
    to: &Path,
    check: Check<'_>,
    sha384: bool,
) -> Result<Option<[u8; 48]>, BuildError> {
    with_buffer(|buf| copy_verified_with(from, to, check, sha384, buf))
}

fn copy_verified_with(
    from: &Path,
    to: &Path,
    check: Check<'_>,
    sha384: bool,
    buf: &mut [u8],
) -> Result<Option<[u8; 48]>, BuildError> {
    let changed = || BuildError::ChangedDuringBuild {
        path: from.to_path_buf(),
    };
    let stamped = |file: &fs::File, stamp: Stamp| -> Result<bool, BuildError> {
        let meta = file.metadata().map_err(BuildError::io(from))?;
        Ok(Stamp::of(&meta) == stamp)
    };
    let reader = fs::File::open(from).map_err(BuildError::io(from))?;
    if let Check::Stamp(stamp) = check {
        if !stamped(&reader, stamp)? {
            return Err(changed());
        }
    }
    // Whole chunks go straight to the file: no second buffer.
    let mut writer = fs::File::create(to).map_err(BuildError::io(to))?;
    let mut sha256 = matches!(check, Check::Digest(_)).then(Sha256::new);
    let mut sha384 = sha384.then(Sha384::new);
    let mut size = 0u64;
    let reader = read_from(reader, from, buf, |chunk| {
        if let Some(sha256) = &mut sha256 {
            sha256.update(chunk);
        }
        if let Some(sha384) = &mut sha384 {
            sha384.update(chunk);
        }
        size += chunk.len() as u64;
        writer.write_all(chunk).map_err(BuildError::io(to))
    })?;
    let same = match check {
        Check::Stamp(stamp) => size == stamp.size() && stamped(&reader, stamp)?,
        Check::Digest(expected) => {
            sha256.map(|h| <[u8; 32]>::from(h.finalize())).as_ref() == Some(expected)
        }
    };
    if !same {
        return Err(changed());
    }
    Ok(sha384.map(|h| h.finalize().into()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;
    use assetc_core::Entry;

    #[test]
    fn a_record_linked_twice_is_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("a.json"), dir.path().join("b.json"));
        fs::write(&from, "{}").unwrap();
        link_or_copy(&from, &to).unwrap();
        // Listed twice: the second is the same link, and the live file keeps its bytes.
        link_or_copy(&from, &to).unwrap();
        assert_eq!(fs::read(&from).unwrap(), b"{}");
        assert_eq!(fs::metadata(&from).unwrap().nlink(), 2);
    }

    /// Appends to the file at `path` in place (same inode).
    fn grow(path: &Path) {
        fs::OpenOptions::new()
            .append(true)
            .open(path)
            .unwrap()
            .write_all(b"more")
            .unwrap();
    }

    #[test]
    fn a_file_is_copied_by_its_stamp_only_while_the_stamp_is_the_one_hashed() {
        use std::time::Duration;

        use crate::build::load::SETTLED;

        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("a.png"), dir.path().join("b.png"));
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&from, &bytes).unwrap();
        let meta = fs::metadata(&from).unwrap();
        // Just written: verified by its hash, since a write in the same clock tick could
        // leave its stamp as it is.
        assert_eq!(Stamp::settled(&meta, SETTLED), None);
        let stamp = Stamp::settled(&meta, Duration::ZERO).expect("a stamp");
        copy_stamped(&from, &to, stamp).unwrap();
        assert_eq!(fs::read(&to).unwrap(), bytes);

        let changed = |from: &Path| {
            matches!(
                copy_stamped(from, &to, stamp),
                Err(BuildError::ChangedDuringBuild { path }) if path == from
            )
        };
        // Replaced by an editor's atomic save, same size and times: another inode.
        let other = dir.path().join("a.png.tmp");
        fs::write(&other, vec![7u8; bytes.len()]).unwrap();
        fs::rename(&other, &from).unwrap();
        assert!(changed(&from));
        // Grown in place.
        let meta = fs::metadata(&from).unwrap();
        let stamp = Stamp::settled(&meta, Duration::ZERO).unwrap();
        grow(&from);
        assert!(matches!(
            copy_stamped(&from, &to, stamp),
            Err(BuildError::ChangedDuringBuild { .. })
        ));
    }

    #[test]
    fn a_script_copied_under_its_stamp_gets_its_sha384_and_a_changed_one_is_refused() {
        use sha2::Digest as _;

        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("app.js"), dir.path().join("out.js"));
        let bytes: Vec<u8> = (0..600_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        fs::write(&from, &bytes).unwrap();
        let stamp_now = || {
            let meta = fs::metadata(&from).unwrap();
            Stamp::settled(&meta, std::time::Duration::ZERO).unwrap()
        };
        let sha384: [u8; 48] = sha2::Sha384::digest(&bytes).into();
        let digest = assetc_core::fingerprint::sha256(&bytes);
        for check in [Check::Stamp(stamp_now()), Check::Digest(&digest)] {
            assert_eq!(
                copy_verified(&from, &to, check, true).unwrap(),
                Some(sha384)
            );
            assert_eq!(fs::read(&to).unwrap(), bytes);
        }
        let refused = |check| {
            matches!(
                copy_verified(&from, &to, check, true),
                Err(BuildError::ChangedDuringBuild { path }) if path == from
            )
        };
        // Grown in place: its stamp moved, and its bytes hash otherwise.
        let stamp = stamp_now();
        grow(&from);
        assert!(refused(Check::Stamp(stamp)));
        assert!(refused(Check::Digest(&digest)));
        // Replaced by an atomic save: another inode.
        let stamp = stamp_now();
        let other = dir.path().join("app.js.tmp");
        fs::write(&other, &bytes).unwrap();
        fs::rename(&other, &from).unwrap();
        assert!(refused(Check::Stamp(stamp)));
    }

    #[test]
    fn a_link_that_fails_part_way_leaves_no_link_to_the_live_output() {
        // The identity file links; its variant is gone from the output, so the entry will
        // be written: the staging tree must not keep a link to the live file to write
        // through.
        let dir = tempfile::tempdir().unwrap();
        let (output, staging) = (dir.path().join("out"), dir.path().join("staging"));
        fs::create_dir_all(&output).unwrap();
        fs::create_dir_all(&staging).unwrap();
        fs::write(output.join("a.css"), "a{}").unwrap();
        let mut entry = Entry {
            path: "a.css".into(),
            ..Entry::default()
        };
        entry.variants.insert(
            "br".into(),
            Variant {
                path: "a.css.br".into(),
                ..Variant::default()
            },
        );
        let link = |entry: &Entry| {
            let variants = entry.variants.values().map(|v| v.path.as_str());
            link_entry(&output, &staging, &entry.path, variants)
        };
        assert!(link(&entry).is_err());
        assert!(!staging.join("a.css").exists());
        assert_eq!(fs::metadata(output.join("a.css")).unwrap().nlink(), 1);
        // With the variant present, both are linked.
        fs::write(output.join("a.css.br"), "x").unwrap();
        link(&entry).unwrap();
        assert_eq!(fs::metadata(output.join("a.css")).unwrap().nlink(), 2);
        assert!(staging.join("a.css.br").exists());
    }
}
