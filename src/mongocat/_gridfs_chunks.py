"""The pure half of GridFS: upload sources cut into chunks, files documents, chunk maths.

Nothing here talks to the server: :func:`raw_pieces` and :func:`chunks_of` turn any
upload source into chunks of exactly the bucket's size, :class:`Hasher` computes a
SHA-256 beside the I/O, :class:`FileInfo` reads a files document, and
:func:`chunk_span` says which chunks hold a byte range.
"""

import asyncio
import contextlib
import hashlib
import inspect
import io
import os
import tempfile
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol, TypeAlias

from ._errors import ConfigurationError, GridFSError

__all__ = [
    "BATCH_BYTES",
    "CHUNKS_INDEX",
    "DEFAULT_CHUNK_SIZE",
    "FILES_INDEX",
    "MAX_CHUNK_SIZE",
    "READ_BATCH_BYTES",
    "FileInfo",
    "Hasher",
    "UploadSource",
    "Writable",
    "check_name",
    "chunk_size_of",
    "chunk_span",
    "chunks_of",
    "now",
    "raw_pieces",
    "remove_quietly",
    "temporary_beside",
]

#: The drivers' default chunk size: 255 KiB, so a chunk document stays under 256 KiB.
DEFAULT_CHUNK_SIZE: Final = 255 * 1024

# The most a chunk may hold: a chunk document must fit in 16 MiB with its other fields.
MAX_CHUNK_SIZE: Final = 16 * 1024 * 1024 - 1024

# How many bytes of chunks one insert, or one cursor batch of a read, carries. They bound
# the memory a transfer holds (a batch, plus its BSON encoding) whatever the file size;
# reads take bigger batches, as each round trip costs more than the memory (measured
# with benchmarks/gridfs_throughput.py: 8 MiB read as fast as the drivers' buckets).
BATCH_BYTES: Final = 4 * 1024 * 1024
READ_BATCH_BYTES: Final = 8 * 1024 * 1024

# The indexes the GridFS specification requires, named as the drivers name them.
FILES_INDEX: Final = {"filename": 1, "uploadDate": 1}
CHUNKS_INDEX: Final = {"files_id": 1, "n": 1}


class _AsyncReadable(Protocol):
    def read(self, size: int, /) -> Awaitable[bytes]: ...


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> Any: ...


#: What :meth:`GridFS.upload` reads: bytes, a binary file object (``read(n)``, plain or
#: async), or an iterable or async iterable of bytes pieces of any size.
UploadSource: TypeAlias = (
    bytes
    | bytearray
    | memoryview
    | _Readable
    | _AsyncReadable
    | Iterable[bytes]
    | AsyncIterable[bytes]
)


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A stored file's description, from its ``<bucket>.files`` document.

    Attributes:
        id: The file's ``_id`` (an ObjectId unless the uploader chose one).
        filename: The name it was uploaded under (several revisions may share it).
        length: Its size in bytes.
        chunk_size: The size of each chunk but the last, in bytes.
        upload_date: When the upload completed (UTC, millisecond precision).
        content_type: The media type given at upload, if any.
        metadata: The application's metadata document, if any.
        sha256: The SHA-256 of the content in lowercase hex; None for files uploaded
            by other tools, whose reads then check lengths but not a hash.
    """

    id: Any
    filename: str | None
    length: int
    chunk_size: int
    upload_date: datetime
    content_type: str | None
    metadata: dict[str, Any] | None
    sha256: str | None

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "FileInfo":
        """Build a FileInfo from a files-collection document."""
        return cls(
            id=document["_id"],
            filename=document.get("filename"),
            length=int(document["length"]),
            chunk_size=int(document["chunkSize"]),
            upload_date=document["uploadDate"],
            content_type=document.get("contentType"),
            metadata=document.get("metadata"),
            sha256=document.get("sha256"),
        )

    @property
    def chunk_count(self) -> int:
        """How many chunks hold the content."""
        return -(-self.length // self.chunk_size)


def check_name(value: object, what: str) -> str:
    """Return ``value`` if it is a usable name, else explain."""
    if not isinstance(value, str) or not value or "\x00" in value:
        raise ConfigurationError(f"{what} must be a non-empty string without NUL, not {value!r}")
    return value


def raw_pieces(source: UploadSource, piece_size: int) -> AsyncIterator[Any]:
    """Return the source's bytes as pieces of whatever size it gives them.

    Raises:
        GridFSError: ``source`` is none of the accepted kinds (checked at once).
    """
    if isinstance(source, bytes | bytearray | memoryview):
        return _single(source)
    if isinstance(source, str):
        raise GridFSError(
            "cannot upload a str: pass bytes (text.encode()), a binary file object, or an "
            "(async) iterable of bytes; to upload a file on disk, pass open(path, 'rb')"
        )
    read = getattr(source, "read", None)
    if callable(read):
        return _read_pieces(read, piece_size, direct=isinstance(source, io.BytesIO))
    if isinstance(source, AsyncIterable):
        return aiter(source)
    if isinstance(source, Iterable):
        return _iterate(source)
    raise GridFSError(
        f"cannot upload a {type(source).__name__}: pass bytes, a binary file object "
        "(with read(n)), or an iterable or async iterable of bytes"
    )


async def _single(data: Any) -> AsyncIterator[Any]:
    yield data


async def _iterate(pieces: Iterable[Any]) -> AsyncIterator[Any]:
    for piece in pieces:
        yield piece


async def _read_pieces(read: Any, piece_size: int, *, direct: bool) -> AsyncIterator[Any]:
    """Read a file object to its end.

    An async file or an in-memory buffer is read directly; any other file is read in a
    thread, so that a slow disk does not stall the event loop.
    """
    direct = direct or inspect.iscoroutinefunction(read)
    while True:
        data = read(piece_size) if direct else await asyncio.to_thread(read, piece_size)
        if isinstance(data, Awaitable):
            data = await data
        if not data:
            return
        yield data


async def chunks_of(pieces: AsyncIterator[Any], chunk_size: int) -> AsyncIterator[bytes]:
    """Yield ``pieces`` cut into chunks of exactly ``chunk_size`` bytes (the last shorter)."""
    pending = bytearray()
    async for piece in pieces:
        if not isinstance(piece, bytes | bytearray | memoryview):
            raise GridFSError(
                f"the upload source gave a {type(piece).__name__}, not bytes; an iterable "
                "source must yield bytes (encode text first)"
            )
        view = memoryview(piece).cast("B")
        if pending:
            needed = chunk_size - len(pending)
            pending += view[:needed]
            view = view[needed:]
            if len(pending) < chunk_size:
                continue
            yield bytes(pending)
            pending.clear()
        while len(view) >= chunk_size:
            yield bytes(view[:chunk_size])
            view = view[chunk_size:]
        pending += view
    if pending:
        yield bytes(pending)


class Hasher:
    """The SHA-256 of a stream of chunks, computed on a worker thread beside the I/O.

    hashlib releases the GIL while it hashes a large buffer, so hashing one chunk
    overlaps with sending or receiving the next. One thread per stream keeps the
    updates in order; a small input is hashed inline and never starts it.
    """

    __slots__ = ("_digest", "_executor", "_pending")

    _INLINE_BELOW: Final = 64 * 1024
    _MAX_PENDING: Final = 16

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._executor: ThreadPoolExecutor | None = None
        self._pending: deque[Future[None]] = deque()

    async def update(self, data: bytes) -> None:
        """Add ``data``; waits only when the thread falls many chunks behind."""
        if self._executor is None:
            if len(data) < self._INLINE_BELOW:
                self._digest.update(data)
                return
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="mongocat-sha256")
        self._pending.append(self._executor.submit(self._digest.update, data))
        if len(self._pending) > self._MAX_PENDING:
            await asyncio.wrap_future(self._pending.popleft())

    async def hexdigest(self) -> str:
        """Wait for the updates, stop the thread, and return the hash in hex."""
        if self._pending:
            await asyncio.wrap_future(self._pending[-1])  # one thread: the last is the latest
            self._pending.clear()
        self.close()
        return self._digest.hexdigest()

    def close(self) -> None:
        """Stop the thread (after the updates it has queued)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)


def now() -> datetime:
    """The current UTC time at BSON's millisecond precision."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def chunk_span(info: FileInfo, start: int, end: int) -> tuple[int, int]:
    """The numbers of the first and last chunk holding bytes ``[start, end)`` (end > start)."""
    return start // info.chunk_size, (end - 1) // info.chunk_size


def chunk_size_of(info: FileInfo, n: int) -> int:
    """How many bytes chunk ``n`` of the file holds: the chunk size, less for the last."""
    final = info.chunk_count - 1
    return info.chunk_size if n < final else info.length - final * info.chunk_size


def temporary_beside(path: str) -> tuple[int, str]:
    """Create a temporary file in ``path``'s directory, so that a rename can replace it."""
    directory = os.path.dirname(os.path.abspath(path))
    return tempfile.mkstemp(prefix=".mongocat-", suffix=".part", dir=directory)


def remove_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
