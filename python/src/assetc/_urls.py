"""URL encoding of served paths, byte for byte what `assetc build` writes (crates/core/src/url_ref.rs)."""

from __future__ import annotations

# `url_ref::SEGMENT`: the C0 controls and DEL (percent_encoding's CONTROLS), the WHATWG path
# set, plus `%` (names are encoded from their decoded form), `/` (a segment never splits) and
# `:` (a first segment with a colon would read as a scheme). Every non-ASCII byte is encoded
# too, as `utf8_percent_encode` does. Hex digits are uppercase.
_ESCAPED = frozenset(b' "#%/:<>?\\^`{|}') | frozenset(range(0x20)) | {0x7F}

_TABLE = tuple(
    "%{:02X}".format(b) if b in _ESCAPED or b >= 0x80 else chr(b) for b in range(256)
)


def encode_segment(segment: str) -> str:
    """Percent-encodes one path segment (`/` included), as `url_ref::encode_segment` does."""
    if segment.isascii() and not any(ord(c) in _ESCAPED for c in segment):
        return segment
    return "".join(_TABLE[b] for b in segment.encode("utf-8"))


def encode_path(path: str) -> str:
    """Percent-encodes a `/`-separated path segment by segment, as `url_ref::encode_path` does."""
    return "/".join(encode_segment(s) for s in path.split("/"))


def is_cross_origin(base_url: str) -> bool:
    """Whether URLs under `base_url` name another origin than the page's (an absolute or
    scheme-relative base): Subresource Integrity then needs a CORS request (`crossorigin`)."""
    head = base_url.replace("\\", "/")
    if head.startswith("//"):
        return True
    scheme, colon, _ = head.partition(":")
    return bool(colon) and scheme[:1].isalpha() and all(
        c.isalnum() or c in "+-." for c in scheme
    )
