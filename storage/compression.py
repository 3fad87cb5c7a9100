"""How newscrawl keeps HTML in its files: the store's raw_html columns and the HTTP cache's bodies.

Blobs are Zstandard frames (RFC 8878) at level 3: on news pages a fourth of zlib's CPU
(45-55 µs against 180 µs for a 10 KB page) for blobs 3% larger. Blobs an older newscrawl
compressed with zlib (RFC 1950) are still read: a Zstandard frame starts with its magic
number, which no zlib header does (the header's check would fail).
"""

from __future__ import annotations

import zlib

try:
    from compression import zstd  # Python 3.14 on
except ImportError:
    from backports import zstd

ZSTD_FRAME = b"\x28\xb5\x2f\xfd"
# what decompressed() raises on a damaged blob
DecompressionError = (zstd.ZstdError, zlib.error)
# One compressor for the process: setting one up is a seventh of a page's cost. Its methods are
# thread-safe, and each call below ends its frame, so calls never mix.
_COMPRESSOR = zstd.ZstdCompressor(level=3)


def compressed(data: bytes) -> bytes:
    """data as one Zstandard frame."""
    return _COMPRESSOR.compress(data, zstd.ZstdCompressor.FLUSH_FRAME)


def decompressed(blob: bytes) -> bytes:
    """The bytes compressed() (or an older newscrawl's zlib) made blob of; DecompressionError when damaged."""
    return zstd.decompress(blob) if blob.startswith(ZSTD_FRAME) else zlib.decompress(blob)
