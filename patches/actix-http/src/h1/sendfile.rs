//! assetc patch (issue 16): a response body that is a range of a file, sent with
//! `sendfile(2)` on plain TCP on Linux, so that its bytes are copied neither from the page
//! cache into user space nor from there into the socket.
//!
//! A handler opts in by attaching a [`FileRange`] to the response's extensions, beside a
//! body of exactly that many bytes. Where the connection can send files (plain TCP on
//! Linux), the dispatcher writes the range and drops the body unpolled; elsewhere (TLS,
//! HTTP/2, other systems, a body of another length) the extension is ignored and the body
//! is sent as usual, so the body must always hold the same bytes as the range.

use std::{
    fs::File,
    io,
    sync::Arc,
    task::{Context, Poll},
};

/// A range of an open file that a response's body consists of; see the module docs.
#[derive(Debug, Clone)]
pub struct FileRange {
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    file: Arc<File>,
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

impl FileRange {
    /// `len` bytes of `file` from `offset`.
    pub fn new(file: Arc<File>, offset: u64, len: u64) -> Self {
        Self { file, offset, len }
    }
}

/// Whether the dispatcher can send files on `io`.
pub(crate) fn supported<T: 'static>(io: &T) -> bool {
    imp::stream(io).is_some()
}

/// Writes the rest of `range` to `io` (for which [`supported`] holds), advancing it.
pub(crate) fn poll_send<T: 'static>(
    io: &T,
    cx: &mut Context<'_>,
    range: &mut FileRange,
) -> Poll<io::Result<()>> {
    imp::poll_send(io, cx, range)
}

/// Writes part of `buf` (a response head) to `io` (for which [`supported`] holds), telling
/// the kernel that more follows, so that the head and the start of the file share a segment.
pub(crate) fn poll_write_head<T: 'static>(
    io: &T,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    imp::poll_write_head(io, cx, buf)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::{
        any::Any,
        io,
        os::fd::{AsRawFd as _, RawFd},
        task::{Context, Poll},
    };

    use futures_core::ready;
    use tokio::{io::Interest, net::TcpStream};

    use super::FileRange;

    /// Bytes sent in one poll before yielding: a large file to a fast reader would otherwise
    /// hold the worker (`sendfile` returns `EAGAIN` only when the socket buffer is full).
    /// assetc hands over ranges of at most 1 MiB, so this guards other users of the API.
    const PER_POLL: u64 = 4 << 20;

    pub(super) fn stream<T: 'static>(io: &T) -> Option<&TcpStream> {
        (io as &dyn Any).downcast_ref::<TcpStream>()
    }

    fn supported_stream<T: 'static>(io: &T) -> &TcpStream {
        stream(io).expect("sendfile is used only where it is supported")
    }

    /// One non-blocking call on `tcp`'s socket; `WouldBlock` clears tokio's readiness so the
    /// next `poll_write_ready` waits for the socket to drain.
    fn poll_io(
        tcp: &TcpStream,
        cx: &mut Context<'_>,
        mut call: impl FnMut(RawFd) -> isize,
    ) -> Poll<io::Result<usize>> {
        let fd = tcp.as_raw_fd();
        loop {
            ready!(tcp.poll_write_ready(cx))?;
            match tcp.try_io(Interest::WRITABLE, || match call(fd) {
                n if n < 0 => Err(io::Error::last_os_error()),
                n => Ok(n as usize),
            }) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                res => return Poll::Ready(res),
            }
        }
    }

    pub(super) fn poll_send<T: 'static>(
        io: &T,
        cx: &mut Context<'_>,
        range: &mut FileRange,
    ) -> Poll<io::Result<()>> {
        let tcp = supported_stream(io);
        let file = range.file.as_raw_fd();
        let mut sent = 0;
        while range.len > 0 {
            if sent >= PER_POLL {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let count = range.len.min(PER_POLL) as usize;
            // `off_t` is 32 bits on some 32-bit targets: an offset past it is an error, never
            // a wrapped one (which would send other bytes of the file).
            let Ok(start) = libc::off_t::try_from(range.offset) else {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "file offset too large for sendfile",
                )));
            };
            let n = ready!(poll_io(tcp, cx, |socket| {
                let mut offset = start;
                // SAFETY: both descriptors are open (the socket is owned by `tcp`, the file
                // by `range`), and `offset` is a valid `off_t` for the call to update.
                // sendfile takes no MSG_NOSIGNAL: a peer that reset the connection raises
                // SIGPIPE, which Rust binaries (and Python) ignore; a host process that
                // restores its default action must not use this path.
                unsafe { libc::sendfile(socket, file, &mut offset, count) }
            }))?;
            if n == 0 {
                // The file is shorter than the range: it was truncated after it was opened.
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file ended before its range was sent",
                )));
            }
            range.offset += n as u64;
            range.len -= n as u64;
            sent += n as u64;
        }
        Poll::Ready(Ok(()))
    }

    pub(super) fn poll_write_head<T: 'static>(
        io: &T,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let tcp = supported_stream(io);
        poll_io(tcp, cx, |socket| {
            // SAFETY: `buf` is valid for reads of its length; the socket is open.
            unsafe {
                libc::send(
                    socket,
                    buf.as_ptr().cast(),
                    buf.len(),
                    libc::MSG_MORE | libc::MSG_NOSIGNAL,
                )
            }
        })
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::{
        io,
        task::{Context, Poll},
    };

    use super::FileRange;

    pub(super) fn stream<T: 'static>(_io: &T) -> Option<()> {
        None
    }

    pub(super) fn poll_send<T: 'static>(
        _io: &T,
        _cx: &mut Context<'_>,
        _range: &mut FileRange,
    ) -> Poll<io::Result<()>> {
        unreachable!("sendfile is used only where it is supported")
    }

    pub(super) fn poll_write_head<T: 'static>(
        _io: &T,
        _cx: &mut Context<'_>,
        _buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        unreachable!("sendfile is used only where it is supported")
    }
}
