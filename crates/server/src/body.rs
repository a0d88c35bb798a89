//! Response bodies as a sequence of segments: slices of in-memory files, fixed bytes
//! (multipart headers), and ranges of files on disk read in bounded chunks on the blocking
//! pool, so a large file is never held in memory whole.

use std::collections::VecDeque;
use std::fs::File;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::rt::task::{spawn_blocking, JoinHandle};
use actix_web::web::Bytes;
use futures_util::Stream;

/// Bytes read from disk per chunk.
const CHUNK: u64 = 64 * 1024;

#[derive(Debug)]
pub(crate) enum Segment {
    Bytes(Bytes),
    File {
        file: Arc<File>,
        offset: u64,
        remaining: u64,
    },
}

/// A stream over segments; its length is known in advance by the caller.
#[derive(Debug)]
pub(crate) struct Segments {
    queue: VecDeque<Segment>,
    pending: Option<JoinHandle<io::Result<Bytes>>>,
}

impl Segments {
    pub fn new(queue: VecDeque<Segment>) -> Self {
        Self {
            queue,
            pending: None,
        }
    }
}

/// `n` bytes of `file` at `offset`, read into a buffer that is not zeroed first (zeroing a
/// 100 KB body was 5 % of its profile under wrk).
#[cfg(unix)]
pub(crate) fn read_range(file: &File, n: usize, offset: u64) -> io::Result<Bytes> {
    let mut buf = Vec::with_capacity(n);
    while buf.len() < n {
        let at = offset + buf.len() as u64;
        match rustix::io::pread(file, rustix::buffer::spare_capacity(&mut buf), at) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // The spare capacity may have been larger than asked for.
    buf.truncate(n);
    Ok(Bytes::from(buf))
}

#[cfg(windows)]
pub(crate) fn read_range(file: &File, n: usize, offset: u64) -> io::Result<Bytes> {
    let mut buf = vec![0; n];
    read_at(file, &mut buf, offset)?;
    Ok(Bytes::from(buf))
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// Ranges up to this size are read on the worker thread; larger ones, chunk by chunk, on
/// the blocking pool until their last megabyte. (Also the largest range handed to
/// actix-http for `sendfile(2)`, which reads on the worker thread too: `respond.rs`.)
pub(crate) const INLINE_LIMIT: u64 = 1 << 20;

/// Bytes read at once on the worker thread: a file up to this size (the default
/// `memory_file_limit`) is one read and one body chunk, which actix writes from its own
/// buffer; larger reads would hold more memory per connection than they save.
const INLINE_CHUNK: u64 = 256 * 1024;

impl Stream for Segments {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(pending) = &mut this.pending {
                let result = match Pin::new(pending).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(result) => result,
                };
                this.pending = None;
                return Poll::Ready(Some(result.unwrap_or_else(|e| Err(io::Error::other(e)))));
            }
            match this.queue.front_mut() {
                None => return Poll::Ready(None),
                Some(Segment::Bytes(_)) => {
                    let Some(Segment::Bytes(bytes)) = this.queue.pop_front() else {
                        unreachable!("the front segment is bytes");
                    };
                    return Poll::Ready(Some(Ok(bytes)));
                }
                Some(Segment::File {
                    file,
                    offset,
                    remaining,
                }) => {
                    if *remaining == 0 {
                        this.queue.pop_front();
                        continue;
                    }
                    let inline = *remaining <= INLINE_LIMIT;
                    let n = (*remaining).min(if inline { INLINE_CHUNK } else { CHUNK });
                    let (file, at) = (file.clone(), *offset);
                    *offset += n;
                    *remaining -= n;
                    if inline {
                        // The tail of a file (or a whole small one) is read here: a read from
                        // the page cache costs less than the hop to the blocking pool, which
                        // cut small on-disk files to a tenth of nginx's rate in `just bench`.
                        return Poll::Ready(Some(read_range(&file, n as usize, at)));
                    }
                    this.pending = Some(spawn_blocking(move || read_range(&file, n as usize, at)));
                }
            }
        }
    }
}
