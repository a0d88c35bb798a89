//! assetc patch (issue 16, part 6): response header lines encoded in advance.
//!
//! A server that knows a response's headers before the request arrives (a static file
//! server's ETag, Cache-Control, Content-Type, ...) can attach them to the response's
//! extensions as a [`HeaderBlock`]: bytes of `name: value\r\n` lines that the HTTP/1
//! encoder copies verbatim after the status line, the `Content-Length` (or
//! `Transfer-Encoding`) and `Connection` lines it writes itself, and before the lines of
//! the response's `HeaderMap`, which is still written as usual (so its `Date`, when it has
//! one, replaces the encoder's). That saves a `HeaderMap` insert per header when the
//! response is built and a map walk when it is encoded.
//!
//! The block is HTTP/1 only: the HTTP/2 dispatcher ignores it, so a handler attaches it
//! only to HTTP/1.x requests (and puts the same headers in the map otherwise). Nothing
//! checks the bytes: the block must hold valid header lines, in the case the peer should
//! see (the encoder's camel-case option does not apply), and none of `Date`,
//! `Content-Length`, `Transfer-Encoding`, `Connection` or `Upgrade`, which the encoder
//! writes or reads from the map. Middleware that reads or changes response headers does
//! not see the block's.

use bytes::Bytes;
use smallvec::SmallVec;

/// Header lines for a response's HTTP/1 head, in parts (each a run of complete
/// `name: value\r\n` lines, written in order); see the module docs.
#[derive(Debug, Clone, Default)]
pub struct HeaderBlock {
    pub(crate) parts: SmallVec<[Bytes; 3]>,
}

impl HeaderBlock {
    /// The lines of `parts`, in order.
    pub fn new(parts: impl IntoIterator<Item = Bytes>) -> Self {
        Self {
            parts: parts.into_iter().collect(),
        }
    }
}
