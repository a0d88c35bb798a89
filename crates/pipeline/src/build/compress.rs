//! Precompressed variants: br (quality 11), zstd (level 19, window ≤ 8 MiB per RFC 9659) and
//! gzip (level 9), written once at build time, deterministic on any machine and thread count.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use sha2::{Digest as _, Sha256};

use assetc_core::Digest;

pub use assetc_core::Coding;

/// Which variants to write.
#[derive(Debug, Clone, PartialEq)]
pub struct CompressOptions {
    pub codings: Vec<Coding>,
    /// Files smaller than this are not compressed.
    pub min_size: u64,
    /// A variant is kept only if it saves at least this share of the size (0.1 = 10 %).
    pub min_saving: f64,
    /// RFC 9842 deltas: against the same logical path's bytes in up to this many of the
    /// newest kept older generations (0: none). See `build::dictionary`.
    pub dictionaries: usize,
}

impl Default for CompressOptions {
    fn default() -> Self {
        Self {
            codings: Coding::ALL.to_vec(),
            min_size: 1024,
            min_saving: 0.1,
            dictionaries: 1,
        }
    }
}

impl CompressOptions {
    /// A stable description, recorded with each generation so that variants are reused
    /// only by builds that would have produced the same ones.
    pub fn key(&self) -> String {
        let codings: Vec<&str> = self.codings.iter().map(|c| c.token()).collect();
        format!(
            "codings={} min_size={} min_saving={} dictionaries={}",
            codings.join(","),
            self.min_size,
            self.min_saving,
            self.dictionaries
        )
    }
}

/// The server decides which responses offer themselves as dictionaries by the same rule.
pub use assetc_core::content_type::compressible;

/// Compresses the file at `from` into `to`, streaming, and returns the encoded size and
/// SHA-256.
pub fn compress_file(from: &Path, to: &Path, coding: Coding) -> io::Result<(u64, Digest)> {
    let file = File::open(from)?;
    let len = file.metadata()?.len();
    let reader = BufReader::with_capacity(256 * 1024, file);
    let writer = HashingWriter {
        inner: BufWriter::with_capacity(256 * 1024, File::create(to)?),
        hasher: Sha256::new(),
        size: 0,
    };
    let writer = compress(reader, writer, coding, len)?;
    let HashingWriter {
        mut inner,
        hasher,
        size,
    } = writer;
    inner.flush()?;
    Ok((size, hasher.finalize().into()))
}

fn compress<R: Read, W: Write>(
    mut reader: R,
    writer: W,
    coding: Coding,
    len: u64,
) -> io::Result<W> {
    match coding {
        Coding::Br => {
            // A window no larger than the input: the same bytes' matches, far smaller
            // tables to allocate and clear (quality 11's binary-tree hasher is 8 bytes per
            // window position).
            let mut lgwin = 10;
            while lgwin < 22 && (1u64 << lgwin) - 16 < len {
                lgwin += 1;
            }
            let params = brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin,
                size_hint: len as usize,
                ..Default::default()
            };
            let mut writer = writer;
            brotli::BrotliCompress(&mut reader, &mut writer, &params)?;
            Ok(writer)
        }
        Coding::Zstd => {
            let mut encoder = zstd::stream::Encoder::new(writer, 19)?;
            // The size lets zstd shrink its window and tables to the input (level 19's
            // are tens of MiB, cleared for every file otherwise).
            encoder.set_pledged_src_size(Some(len))?;
            // RFC 9659: browsers accept windows of at most 8 MiB.
            encoder.window_log(23)?;
            encoder.include_checksum(false)?;
            io::copy(&mut reader, &mut encoder)?;
            encoder.finish()
        }
        Coding::Gzip => {
            // No file name and a zero mtime in the header: the same bytes on any machine.
            let mut encoder = flate2::GzBuilder::new()
                .mtime(0)
                .write(writer, flate2::Compression::best());
            io::copy(&mut reader, &mut encoder)?;
            encoder.finish()
        }
    }
}

struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(coding: Coding, data: &[u8]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("a"), dir.path().join("a.c"));
        std::fs::write(&src, data).unwrap();
        let (size, _) = compress_file(&src, &dst, coding).unwrap();
        let encoded = std::fs::read(&dst).unwrap();
        assert_eq!(size, encoded.len() as u64);
        let mut decoded = Vec::new();
        match coding {
            Coding::Br => brotli::BrotliDecompress(&mut encoded.as_slice(), &mut decoded).unwrap(),
            Coding::Zstd => decoded = zstd::decode_all(encoded.as_slice()).unwrap(),
            Coding::Gzip => {
                flate2::read::GzDecoder::new(encoded.as_slice())
                    .read_to_end(&mut decoded)
                    .unwrap();
            }
        }
        assert_eq!(decoded, data, "{coding:?} round trip");
        encoded
    }

    #[test]
    fn every_coding_round_trips_and_is_deterministic() {
        let data: Vec<u8> = (0..50_000u32)
            .flat_map(|i| format!("line {} {}\n", i, i % 7).into_bytes())
            .collect();
        for coding in Coding::ALL {
            let a = roundtrip(coding, &data);
            let b = roundtrip(coding, &data);
            assert_eq!(a, b, "{coding:?} output differs between runs");
            assert!(a.len() < data.len() / 3);
        }
        assert!(roundtrip(Coding::Gzip, b"x")[..10] == [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
    }

    #[test]
    fn zstd_frames_declare_at_most_an_8_mib_window() {
        let data = vec![b'a'; 20 << 20];
        let encoded = roundtrip(Coding::Zstd, &data);
        // Frame header: magic, then the descriptor; without single-segment the window
        // descriptor byte follows: exponent in the high 5 bits, window = 2^(10+exp) (+ mantissa).
        let descriptor = encoded[4];
        assert_eq!(
            descriptor & 0x20,
            0,
            "single-segment frames have no window limit to check"
        );
        let window_byte = encoded[5];
        let exponent = u32::from(window_byte >> 3);
        let mantissa = u64::from(window_byte & 7);
        let base = 1u64 << (10 + exponent);
        let window = base + (base / 8) * mantissa;
        assert!(window <= 8 << 20, "window {window}");
    }

    #[test]
    fn compressible_types() {
        for yes in [
            "text/css; charset=utf-8",
            "text/javascript; charset=utf-8",
            "application/json",
            "image/svg+xml; charset=utf-8",
            "application/wasm",
            "font/ttf",
        ] {
            assert!(compressible(yes), "{yes}");
        }
        for no in [
            "image/png",
            "font/woff2",
            "font/woff",
            "application/zip",
            "video/mp4",
            "image/webp",
        ] {
            assert!(!compressible(no), "{no}");
        }
    }
}
