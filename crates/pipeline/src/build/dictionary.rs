//! Compression dictionary deltas (RFC 9842): each fingerprinted, compressible file encoded
//! with the same logical path's bytes from a kept older generation as the dictionary, so a
//! returning visitor who holds the old version downloads only what changed.
//!
//! Deltas are recorded as variants under the keys `dcb:<dictionary SHA-256>` and
//! `dcz:<dictionary SHA-256>` (see ARCHITECTURE.md, "Compression dictionaries").

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use assetc_core::fingerprint::{hex, sha256};
use assetc_core::generations::{retain, Generation};
use assetc_core::{strong_etag, Coding, DictCoding, Manifest, Variant, MANIFEST_FILE_NAME};
use rayon::prelude::*;

use crate::build::compress::{compressible, CompressOptions};
use crate::build::options::BuildOptions;
use crate::error::BuildError;
use crate::output::records::{with_manifest_at, Records};

/// RFC 9842 §4: the `dcb` stream starts with these 4 bytes, then the dictionary's SHA-256.
pub const DCB_MAGIC: [u8; 4] = [0xff, 0x44, 0x43, 0x42];

/// RFC 9842 §5: the `dcz` stream starts with this 8-byte zstd skippable-frame header (magic
/// `0x184D2A5E`, frame size 32), then the dictionary's SHA-256, then the zstd frame.
pub const DCZ_MAGIC: [u8; 8] = [0x5e, 0x2a, 0x4d, 0x18, 0x20, 0x00, 0x00, 0x00];

/// How many bytes precede the compressed stream: 36 for dcb, 40 for dcz.
pub fn header_len(coding: DictCoding) -> usize {
    match coding {
        DictCoding::Dcb => DCB_MAGIC.len() + 32,
        DictCoding::Dcz => DCZ_MAGIC.len() + 32,
    }
}

/// The file suffix of a delta: `app.<fp>.js.<first 12 hex of the dictionary's SHA-256>.dcb`.
pub fn suffix(coding: DictCoding, dictionary_sha256: &str) -> String {
    format!(".{}.{}", &dictionary_sha256[..12], coding.token())
}

/// `data` encoded with `dictionary`, framed as RFC 9842 says for `coding`. Deterministic.
pub fn encode(coding: DictCoding, dictionary: &[u8], data: &[u8]) -> io::Result<Vec<u8>> {
    let dict_hash = sha256(dictionary);
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    match coding {
        DictCoding::Dcb => {
            out.extend_from_slice(&DCB_MAGIC);
            out.extend_from_slice(&dict_hash);
            encode_brotli(dictionary, data, &mut out)?;
        }
        DictCoding::Dcz => {
            out.extend_from_slice(&DCZ_MAGIC);
            out.extend_from_slice(&dict_hash);
            encode_zstd(dictionary, data, &mut out)?;
        }
    }
    Ok(out)
}

/// RFC 9842 §4: a brotli stream with the dictionary as a custom (prefix) dictionary and a
/// window of at most 16 MB (lgwin ≤ 24; no large-window brotli).
fn encode_brotli(dictionary: &[u8], data: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    // A window that reaches back over the whole dictionary when it can.
    let reach = (dictionary.len() + data.len()) as u64;
    let mut lgwin = 10;
    while lgwin < 24 && (1u64 << lgwin) - 16 < reach {
        lgwin += 1;
    }
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin,
        size_hint: data.len(),
        ..Default::default()
    };
    let mut input = [0u8; 4096];
    let mut output = [0u8; 4096];
    let mut nop =
        |_: &mut brotli::interface::PredictionModeContextMap<brotli::InputReferenceMut>,
         _: &mut [brotli::interface::StaticCommand],
         _: brotli::InputPair,
         _: &mut brotli::enc::StandardAlloc| ();
    brotli::enc::BrotliCompressCustomIoCustomDict(
        &mut brotli::IoReaderWrapper(&mut &data[..]),
        &mut brotli::IoWriterWrapper(out),
        &mut input,
        &mut output,
        &params,
        brotli::enc::StandardAlloc::default(),
        &mut nop,
        dictionary,
        io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected eof"),
    )?;
    Ok(())
}

/// RFC 9842 §5: a zstd frame with the dictionary referenced as raw content (a prefix, never
/// parsed as a trained dictionary), and a window of 8 MiB, within the RFC's limit of the
/// larger of 8 MB and 1.25 × the dictionary's size.
fn encode_zstd(dictionary: &[u8], data: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    use zstd::zstd_safe::{CCtx, CParameter};
    let err = |code| io::Error::other(format!("zstd: `{}`", zstd::zstd_safe::get_error_name(code)));
    let mut cctx = CCtx::create();
    cctx.set_parameter(CParameter::CompressionLevel(19))
        .map_err(err)?;
    cctx.set_parameter(CParameter::WindowLog(23)).map_err(err)?;
    cctx.set_parameter(CParameter::ChecksumFlag(false))
        .map_err(err)?;
    cctx.ref_prefix(dictionary).map_err(err)?;
    let mut frame = Vec::with_capacity(zstd::zstd_safe::compress_bound(data.len()));
    cctx.compress2(&mut frame, data).map_err(err)?;
    out.extend_from_slice(&frame);
    Ok(())
}

/// An older version of a file that deltas are computed against.
struct Dictionary {
    sha256: String,
    path: String,
}

/// Adds (or keeps) the deltas of every fingerprinted, compressible entry of `manifest`,
/// whose files are in `staging`, against the same logical path's other bytes in the newest
/// `options.compress.dictionaries` kept older generations (whose files are in `output`).
/// A delta is kept only when it saves `min_saving` against br (or the identity without br).
/// Deltas a reused entry carries whose dictionary is no longer wanted are dropped. Returns
/// how many deltas were encoded anew.
pub(crate) fn add_deltas(
    staging: &Path,
    output: &Path,
    previous: Option<&Records>,
    manifest: &mut Manifest,
    options: &BuildOptions,
) -> Result<usize, BuildError> {
    let compress = &options.compress;
    // Delta files kept older generations list: never removed from the staging tree.
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let mut dicts: Vec<Vec<Dictionary>> = manifest.entries.keys().map(|_| Vec::new()).collect();
    let mut wanted = compress.dictionaries;
    // Each older manifest read on its own and borrowed: at 100,000 files each would be
    // 80 MB owned, and a build keeps several.
    for path in older_manifests(previous, options) {
        with_manifest_at(&path, |older| {
            let variants = older.entries.iter().flat_map(|(_, e)| e.variants.iter());
            listed.extend(
                variants
                    .filter(|(key, _)| DictCoding::parse_key(key).is_some())
                    .map(|(_, v)| v.path.to_string()),
            );
            if wanted == 0 {
                return;
            }
            wanted -= 1;
            for ((logical, entry), dicts) in manifest.entries.iter().zip(&mut dicts) {
                if !(entry.immutable
                    && compressible(&entry.content_type)
                    && entry.size >= compress.min_size)
                {
                    continue;
                }
                let Some(old) = older.entries.get(logical) else {
                    continue;
                };
                if old.immutable
                    && old.sha256.as_str() != entry.sha256
                    && !dicts.iter().any(|d| d.sha256 == old.sha256.as_str())
                {
                    dicts.push(Dictionary {
                        sha256: old.sha256.to_string(),
                        path: old.path.to_string(),
                    });
                }
            }
        });
    }
    let jobs: Vec<(String, Vec<Dictionary>)> =
        manifest.entries.keys().cloned().zip(dicts).collect();
    let results: Vec<(String, BTreeMap<String, Variant>, usize)> = jobs
        .into_par_iter()
        .map(|(logical, dicts)| {
            let entry = &manifest.entries[&logical];
            let (deltas, encoded) = entry_deltas(staging, output, entry, &dicts, compress)?;
            Ok((logical, deltas, encoded))
        })
        .collect::<Result<_, BuildError>>()?;
    let mut encoded_total = 0;
    for (logical, deltas, encoded) in results {
        encoded_total += encoded;
        let entry = manifest.entries.get_mut(&logical).expect("entry exists");
        let stale: Vec<String> = entry
            .variants
            .keys()
            .filter(|k| DictCoding::parse_key(k).is_some() && !deltas.contains_key(*k))
            .cloned()
            .collect();
        for key in stale {
            let v = entry.variants.remove(&key).expect("listed");
            if !listed.contains(v.path.as_str()) {
                let path = staging.join(&v.path);
                match fs::remove_file(&path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        return Err(BuildError::Io { path, source: e })
                    }
                    _ => {}
                }
            }
        }
        entry.variants.extend(deltas);
    }
    Ok(encoded_total)
}

/// The deltas one entry should have: reused when the staging tree already holds them (linked
/// with the entry), else encoded. Returns them and how many were encoded.
fn entry_deltas(
    staging: &Path,
    output: &Path,
    entry: &assetc_core::Entry,
    dicts: &[Dictionary],
    compress: &CompressOptions,
) -> Result<(BTreeMap<String, Variant>, usize), BuildError> {
    let mut deltas = BTreeMap::new();
    let mut encoded = 0;
    if dicts.is_empty() {
        return Ok((deltas, encoded));
    }
    // Saving enough against what would be sent otherwise: br, or the identity.
    let baseline = entry
        .variants
        .get(Coding::Br.token())
        .map_or(entry.size, |v| v.size);
    let limit = baseline as f64 * (1.0 - compress.min_saving);
    let target = staging.join(&entry.path);
    let mut data: Option<Vec<u8>> = None;
    for dict in dicts {
        let mut dictionary: Option<Vec<u8>> = None;
        for coding in DictCoding::ALL {
            let key = coding.key(&dict.sha256);
            if let Some(v) = entry.variants.get(&key) {
                if fs::metadata(staging.join(&v.path)).is_ok_and(|m| m.len() == v.size) {
                    deltas.insert(key, v.clone());
                    continue;
                }
            }
            if dictionary.is_none() {
                let path = output.join(&dict.path);
                let bytes = match fs::read(&path) {
                    Ok(bytes) => bytes,
                    // An older file the output lacks: no delta against it (verify reports it).
                    Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                    Err(e) => return Err(BuildError::Io { path, source: e }),
                };
                if hex(&sha256(&bytes)) != dict.sha256 {
                    break;
                }
                dictionary = Some(bytes);
            }
            if data.is_none() {
                data = Some(fs::read(&target).map_err(BuildError::io(&target))?);
            }
            let (dictionary, data) = (dictionary.as_deref().unwrap(), data.as_deref().unwrap());
            let bytes = encode(coding, dictionary, data).map_err(BuildError::io(&target))?;
            encoded += 1;
            if bytes.len() as f64 > limit {
                continue;
            }
            let served = format!("{}{}", entry.path, suffix(coding, &dict.sha256));
            let path = staging.join(&served);
            fs::write(&path, &bytes).map_err(BuildError::io(&path))?;
            let digest = sha256(&bytes);
            deltas.insert(
                key,
                Variant {
                    etag: strong_etag(&digest),
                    path: served,
                    sha256: hex(&digest),
                    size: bytes.len() as u64,
                },
            );
        }
    }
    Ok((deltas, encoded))
}

/// The manifests' paths of the older generations this build keeps, newest first (the
/// retention of `write_records`, applied before this build's own id is known).
fn older_manifests(previous: Option<&Records>, options: &BuildOptions) -> Vec<PathBuf> {
    let Some(prev) = previous else {
        return Vec::new();
    };
    if options.compress.dictionaries == 0 {
        return Vec::new();
    }
    let mut generations = vec![Generation {
        built_at: options.now,
        config: String::new(),
        id: String::new(),
    }];
    generations.extend(prev.generations.iter().cloned());
    let kept = retain(generations, options.now, options.keep, options.keep_age);
    let mut out = Vec::new();
    // The current output's manifest is the newest older generation even when its records
    // are missing.
    if prev.generations.is_empty() {
        out.push(prev.root().join(MANIFEST_FILE_NAME));
    }
    for g in &kept[1..] {
        out.push(prev.generation_file(&g.id));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: u32, changed: u32) -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                let v = if i == changed { 999_999 } else { i * 7 };
                format!("function f{i}() {{ return {v}; }}\n").into_bytes()
            })
            .collect()
    }

    fn brotli_decode(dictionary: &[u8], stream: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut r =
            brotli::Decompressor::new_with_custom_dict(stream, 4096, dictionary.to_vec().into());
        io::Read::read_to_end(&mut r, &mut out).unwrap();
        out
    }

    fn zstd_decode(dictionary: &[u8], frame: &[u8]) -> Vec<u8> {
        let mut d = zstd::bulk::Decompressor::with_dictionary(dictionary).unwrap();
        d.decompress(frame, 10 << 20).unwrap()
    }

    #[test]
    fn dcb_is_magic_then_dictionary_hash_then_a_brotli_stream_using_it() {
        let (old, new) = (sample(3000, 5), sample(3000, 2000));
        let delta = encode(DictCoding::Dcb, &old, &new).unwrap();
        assert_eq!(delta[..4], [0xff, 0x44, 0x43, 0x42]);
        assert_eq!(delta[4..36], sha256(&old));
        assert_eq!(header_len(DictCoding::Dcb), 36);
        assert_eq!(brotli_decode(&old, &delta[36..]), new);
        // The delta is tiny: two changed lines of 90 kB.
        assert!(delta.len() < 200, "{}", delta.len());
        assert_eq!(
            delta,
            encode(DictCoding::Dcb, &old, &new).unwrap(),
            "deterministic"
        );
    }

    #[test]
    fn dcz_is_a_skippable_frame_holding_the_hash_then_a_zstd_frame_using_it() {
        let (old, new) = (sample(3000, 5), sample(3000, 2000));
        let delta = encode(DictCoding::Dcz, &old, &new).unwrap();
        assert_eq!(delta[..8], [0x5e, 0x2a, 0x4d, 0x18, 0x20, 0, 0, 0]);
        assert_eq!(delta[8..40], sha256(&old));
        assert_eq!(header_len(DictCoding::Dcz), 40);
        // The whole stream is valid zstd: a decoder skips the skippable frame.
        assert_eq!(zstd_decode(&old, &delta), new);
        assert_eq!(zstd_decode(&old, &delta[40..]), new);
        assert!(delta.len() < 200, "{}", delta.len());
        // Window descriptor (no single-segment flag for a 90 kB frame with a dictionary?
        // either way): the frame declares at most 8 MiB.
        let frame = &delta[40..];
        assert_eq!(frame[..4], [0x28, 0xb5, 0x2f, 0xfd]);
        if frame[4] & 0x20 == 0 {
            let w = frame[5];
            let base = 1u64 << (10 + u32::from(w >> 3));
            assert!(base + base / 8 * u64::from(w & 7) <= 8 << 20);
        }
        assert_eq!(
            delta,
            encode(DictCoding::Dcz, &old, &new).unwrap(),
            "deterministic"
        );
    }

    #[test]
    fn a_dictionary_that_looks_like_a_trained_one_is_still_raw_content() {
        // The magic of a trained zstd dictionary at the start of the old bytes.
        let mut old = vec![0x37, 0xa4, 0x30, 0xec];
        old.extend(sample(500, 1));
        let new = sample(500, 2);
        let delta = encode(DictCoding::Dcz, &old, &new).unwrap();
        let mut d = zstd::zstd_safe::DCtx::create();
        d.ref_prefix(&old).unwrap();
        let mut out = Vec::with_capacity(new.len() + 16);
        d.decompress(&mut out, &delta[40..]).unwrap();
        assert_eq!(out, new);
    }

    #[test]
    fn suffix_names_the_dictionary_and_coding() {
        let sha = "0123456789abcdef".repeat(4);
        assert_eq!(suffix(DictCoding::Dcb, &sha), ".0123456789ab.dcb");
        assert_eq!(suffix(DictCoding::Dcz, &sha), ".0123456789ab.dcz");
    }
}
