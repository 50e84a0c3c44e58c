"""GridFS: files larger than a document, stored as chunks, streamed both ways.

The layout is the GridFS specification's, so files written here are read by every
driver's ``GridFSBucket``, ``mongofiles`` and Compass, and the other way round: one
``<bucket>.files`` document per file (``_id``, ``length``, ``chunkSize``,
``uploadDate``, ``filename``, ``metadata``) and ``<bucket>.chunks`` documents
(``files_id``, ``n``, ``data``). mongocat adds a ``sha256`` field (lowercase hex) to
the files document, and ``contentType`` when one is given.

The operations are written against the calls both drivers share, not against either
driver's bucket class: the buckets cannot fetch only the chunks of a byte range,
hash what they store, or read from an async iterable, and they differ between
Motor and PyMongo. Going through :class:`~mongocat.Collection` also means a bound
transaction or session applies to GridFS writes like to any other. The pure parts
(chunking, hashing, files documents, chunk maths) are in ``_gridfs_chunks``.
"""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self

from bson import ObjectId

from ._coercion import as_filter
from ._collection import Collection
from ._errors import (
    ConfigurationError,
    DuplicateKeyError,
    FileNotFound,
    GridFSError,
    GridFSIntegrityError,
    InvalidRange,
)
from ._gridfs_chunks import (
    BATCH_BYTES,
    CHUNKS_INDEX,
    DEFAULT_CHUNK_SIZE,
    FILES_INDEX,
    MAX_CHUNK_SIZE,
    READ_BATCH_BYTES,
    FileInfo,
    Hasher,
    UploadSource,
    Writable,
    check_name,
    chunk_size_of,
    chunk_span,
    chunks_of,
    now,
    raw_pieces,
    remove_quietly,
    temporary_beside,
)
from ._handle import DatabaseHandle
from ._paths import is_int
from ._types import FilterLike, SortLike

__all__ = ["GridFS", "GridFSReader"]


class GridFS:
    """Store and read files of any size in a GridFS bucket.

    Get one from :meth:`Catalogue.gridfs`. Uploads stream from bytes, file objects or
    (async) iterables and never hold more than a few MiB; reads stream too, fetch
    only the chunks a byte range needs, and check every file they read end to end
    against its length and SHA-256.

    Example:
        >>> fs = cat.gridfs("images")  # doctest: +SKIP
        >>> file_id = await fs.upload("cat.png", png_bytes, content_type="image/png")
        >>> assert await fs.download(file_id) == png_bytes
    """

    __slots__ = ("_bucket", "_chunk_size", "_chunks", "_files", "_handle")

    def __init__(
        self,
        handle: DatabaseHandle,
        bucket: str,
        chunk_size: int,
        *,
        collection: Callable[[str], Collection[dict[str, Any]]],
    ) -> None:
        self._bucket = check_name(bucket, "the GridFS bucket name")
        if not is_int(chunk_size) or not 0 < chunk_size <= MAX_CHUNK_SIZE:
            raise ConfigurationError(
                f"chunk_size must be an int from 1 to {MAX_CHUNK_SIZE} bytes, not "
                f"{chunk_size!r}; the default {DEFAULT_CHUNK_SIZE} suits most files"
            )
        self._handle = handle
        self._chunk_size = chunk_size
        self._files = collection(f"{bucket}.files")
        self._chunks = collection(f"{bucket}.chunks")

    def __repr__(self) -> str:
        return f"GridFS(bucket={self._bucket!r}, chunk_size={self._chunk_size})"

    @property
    def bucket(self) -> str:
        """The bucket's name, which prefixes its two collections (``<bucket>.files``)."""
        return self._bucket

    @property
    def chunk_size(self) -> int:
        """The chunk size new uploads use, in bytes."""
        return self._chunk_size

    # -- writing -------------------------------------------------------------------

    async def _ensure_indexes(self) -> None:
        """Create the indexes the GridFS spec requires, once per Catalogue and bucket.

        Runs without the caller's session: index builds cannot join a transaction.
        """
        ready = f"gridfs-indexes:{self._bucket}"
        if self._handle.is_ready(ready):
            return
        for collection, keys, unique in (
            (self._files, FILES_INDEX, False),
            (self._chunks, CHUNKS_INDEX, True),
        ):
            wanted = list(keys.items())
            if not any(
                list(index.key.items()) == wanted for index in await collection.indexes.list()
            ):
                create = collection.driver_collection.create_index(wanted, unique=unique)
                await self._handle.run(create)
        self._handle.mark_ready(ready)

    async def upload(
        self,
        filename: str,
        source: UploadSource,
        *,
        metadata: Mapping[str, Any] | None = None,
        content_type: str | None = None,
        file_id: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """Store a file, streaming it from ``source`` chunk by chunk.

        The chunks are written first and the files document last, so a file is
        visible only once all of it is stored. If the upload fails or is cancelled,
        the chunks already written are deleted.

        Args:
            filename: The file's name; uploading the same name again adds a revision.
            source: Bytes, a binary file object (``read(n)``, plain or async), or an
                iterable or async iterable of bytes pieces of any size.
            metadata: An application document stored with the file (queryable with
                :meth:`find`, e.g. ``F.metadata.owner == "ann"``).
            content_type: The file's media type, such as ``"image/png"``.
            file_id: The ``_id`` to store the file under; a new ObjectId by default.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The file's ``_id``.

        Raises:
            GridFSError: ``source`` is not bytes, a file object or an iterable of bytes.
            DuplicateKeyError: A file with ``file_id`` exists already.

        Example:
            >>> with open("video.mp4", "rb") as f:  # doctest: +SKIP
            ...     video_id = await fs.upload("video.mp4", f, content_type="video/mp4")
        """
        with self._handle.operation(timeout, "upload", self._bucket):
            check_name(filename, "filename")
            if metadata is not None and not isinstance(metadata, Mapping):
                raise GridFSError(f"metadata must be a document (a dict), not {metadata!r}")
            if content_type is not None and not isinstance(content_type, str):
                raise GridFSError(
                    f"content_type must be a string such as 'image/png', not {content_type!r}"
                )
            chunks = chunks_of(raw_pieces(source, self._chunk_size), self._chunk_size)
            await self._ensure_indexes()
            if file_id is None:
                file_id = ObjectId()
            elif await self.exists(file_id):
                raise DuplicateKeyError(
                    f"GridFS bucket {self._bucket!r} already has a file with _id {file_id!r}; "
                    "choose another file_id, delete() the file first, or use replace() to add "
                    "a revision under a new id",
                    index_name="_id_",
                    key_pattern={"_id": 1},
                    key_value={"_id": file_id},
                )
            digest = Hasher()
            per_batch = max(1, BATCH_BYTES // self._chunk_size)
            batch: list[dict[str, Any]] = []
            length = n = written = 0
            try:
                async for chunk in chunks:
                    await digest.update(chunk)
                    batch.append({"_id": ObjectId(), "files_id": file_id, "n": n, "data": chunk})
                    n += 1
                    length += len(chunk)
                    if len(batch) == per_batch:
                        await self._chunks.insert_many(batch)
                        written, batch = n, []
                if batch:
                    await self._chunks.insert_many(batch)
                    written, batch = n, []
                document: dict[str, Any] = {
                    "_id": file_id,
                    "length": length,
                    "chunkSize": self._chunk_size,
                    "uploadDate": now(),
                    "filename": filename,
                }
                if metadata is not None:
                    document["metadata"] = dict(metadata)
                if content_type is not None:
                    document["contentType"] = content_type
                document["sha256"] = await digest.hexdigest()
                await self._files.insert_one(document)
                self._handle.annotate(
                    {"mongocat.gridfs.bytes": length, "mongocat.gridfs.chunks": n}
                )
            except BaseException:
                digest.close()
                await asyncio.shield(self._abort(file_id, written))
                raise
            return file_id

    async def _abort(self, file_id: Any, written: int) -> None:
        """Delete the chunks of an upload that failed, and never another file's."""
        # The upload's own error is the one to report; a failed clean-up leaves only
        # orphaned chunks, which no read can see.
        with contextlib.suppress(Exception):
            if await self.exists(file_id):
                # Another file has this id (the files insert failed on it): remove only
                # the chunks this upload is known to have written.
                await self._chunks.delete_many(
                    {"files_id": {"$eq": file_id}, "n": {"$lt": written}}
                )
            else:
                await self._chunks.delete_many({"files_id": {"$eq": file_id}})

    async def replace(
        self,
        filename: str,
        source: UploadSource,
        *,
        metadata: Mapping[str, Any] | None = None,
        content_type: str | None = None,
        delete_old: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """Upload a new revision of an existing file.

        Args:
            filename: The name of the file to replace; it must exist.
            source: The new content, as for :meth:`upload`.
            metadata: The new revision's metadata; the latest revision's by default.
            content_type: The new revision's media type; the latest revision's by default.
            delete_old: Delete the older revisions once the new one is stored.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The new revision's ``_id``.

        Raises:
            FileNotFound: No file has that name (use :meth:`upload` for a new file).
        """
        with self._handle.operation(timeout, "replace", self._bucket):
            current = await self.latest(filename)
            file_id = await self.upload(
                filename,
                source,
                metadata=current.metadata if metadata is None else metadata,
                content_type=current.content_type if content_type is None else content_type,
            )
            if delete_old:
                for old in await self.revisions(filename):
                    if old.id != file_id:
                        await self.delete(old.id)
            return file_id

    async def delete(self, file_id: Any, *, timeout: float | None = None) -> None:
        """Delete a file: its files document first, then its chunks.

        Args:
            file_id: The file's ``_id``.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Raises:
            FileNotFound: No file has that id (orphaned chunks with it are removed anyway).
        """
        with self._handle.operation(timeout, "delete", self._bucket):
            result = await self._files.delete_one({"_id": {"$eq": file_id}})
            await self._chunks.delete_many({"files_id": {"$eq": file_id}})
            if result.deleted_count == 0:
                raise FileNotFound(self._bucket, file_id=file_id)

    async def rename(self, file_id: Any, filename: str, *, timeout: float | None = None) -> None:
        """Give a file a new name.

        Args:
            file_id: The file's ``_id``.
            filename: The new name.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Raises:
            FileNotFound: No file has that id.
        """
        with self._handle.operation(timeout, "rename", self._bucket):
            check_name(filename, "filename")
            result = await self._files.update_one(
                {"_id": {"$eq": file_id}}, {"$set": {"filename": filename}}
            )
            if result.matched_count == 0:
                raise FileNotFound(self._bucket, file_id=file_id)

    # -- finding -------------------------------------------------------------------

    async def info(self, file_id: Any, *, timeout: float | None = None) -> FileInfo:
        """Return a file's description.

        Args:
            file_id: The file's ``_id``.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Raises:
            FileNotFound: No file has that id.
        """
        with self._handle.operation(timeout, "info", self._bucket):
            document = await self._files.find_one({"_id": {"$eq": file_id}})
            if document is None:
                raise FileNotFound(self._bucket, file_id=file_id)
            return FileInfo.from_document(document)

    async def exists(self, file_id: Any, *, timeout: float | None = None) -> bool:
        """Return whether a file with this id exists.

        Args:
            file_id: The file's ``_id``.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).
        """
        with self._handle.operation(timeout, "exists", self._bucket):
            found = await self._files.find_one({"_id": {"$eq": file_id}}, projection={"_id": 1})
            return found is not None

    async def find(
        self,
        filter: FilterLike | None = None,
        *,
        sort: SortLike | None = None,
        skip: int | None = None,
        limit: int | None = None,
        timeout: float | None = None,
    ) -> list[FileInfo]:
        """Return the files whose files documents match ``filter``.

        Args:
            filter: A filter on the files documents' fields: ``filename``,
                ``length``, ``uploadDate``, ``contentType``, ``metadata.<field>``.
            sort: Their order, e.g. ``[("uploadDate", -1)]``.
            skip: How many to skip.
            limit: The most to return.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Example:
            >>> mine = await fs.find(F.metadata.owner == "ann", sort="filename")  # doctest: +SKIP
        """
        with self._handle.operation(timeout, "find", self._bucket):
            documents = await self._files.find(as_filter(filter), sort=sort, skip=skip, limit=limit)
            return [FileInfo.from_document(document) for document in documents]

    async def revisions(self, filename: str, *, timeout: float | None = None) -> list[FileInfo]:
        """Return every revision of ``filename``, oldest first.

        Args:
            filename: The file name.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).
        """
        with self._handle.operation(timeout, "revisions", self._bucket):
            return await self.find(
                {"filename": {"$eq": check_name(filename, "filename")}},
                sort=[("uploadDate", 1), ("_id", 1)],
            )

    async def latest(self, filename: str, *, timeout: float | None = None) -> FileInfo:
        """Return the newest revision of ``filename``.

        Args:
            filename: The file name.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Raises:
            FileNotFound: No file has that name.
        """
        with self._handle.operation(timeout, "latest", self._bucket):
            found = await self.find(
                {"filename": {"$eq": check_name(filename, "filename")}},
                sort=[("uploadDate", -1), ("_id", -1)],
                limit=1,
            )
            if not found:
                raise FileNotFound(self._bucket, filename=filename)
            return found[0]

    # -- reading -------------------------------------------------------------------

    async def download(
        self, file_id: Any, *, verify: bool = True, timeout: float | None = None
    ) -> bytes:
        """Return a file's whole content, checked against its length and SHA-256.

        Args:
            file_id: The file's ``_id``.
            verify: Check the SHA-256 (the default). Hashing costs CPU time: on a
                machine whose cores are busy it is the largest part of a download's
                cost, so ``verify=False`` trades that check for throughput; chunk
                numbers and sizes are checked either way.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Raises:
            FileNotFound: No file has that id.
            GridFSIntegrityError: A chunk is missing, has the wrong size, or the content
                does not hash to the stored SHA-256.
        """
        with self._handle.operation(timeout, "download", self._bucket):
            data = b"".join([piece async for piece in self.stream(file_id, verify=verify)])
            self._handle.annotate({"mongocat.gridfs.bytes": len(data)})
            return data

    async def download_to(
        self,
        file_id: Any,
        target: str | os.PathLike[str] | Writable,
        *,
        verify: bool = True,
        timeout: float | None = None,
    ) -> int:
        """Write a file's content to a path or a writer, streaming it chunk by chunk.

        A path is written to a temporary file beside it, renamed into place only once
        the whole file has been read and checked, so a damaged file never leaves a
        partial copy. A writer (an object with ``write(bytes)``, whose result is
        awaited if it is awaitable) receives the chunks as they arrive.

        Args:
            file_id: The file's ``_id``.
            target: A path, or an object with ``write(bytes)``.
            verify: Check the stored SHA-256 (when the file has one) before finishing.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The number of bytes written.

        Raises:
            FileNotFound: No file has that id.
            GridFSIntegrityError: The stored file is damaged.
        """
        with self._handle.operation(timeout, "download_to", self._bucket):
            if isinstance(target, str | os.PathLike):
                written = await self._download_to_path(file_id, os.fspath(target), verify)
            elif not callable(getattr(target, "write", None)):
                raise GridFSError(
                    f"download_to needs a path or an object with write(bytes), not {target!r}"
                )
            else:
                written = 0
                async for piece in self.stream(file_id, verify=verify):
                    result = target.write(piece)
                    if isinstance(result, Awaitable):
                        await result
                    written += len(piece)
            self._handle.annotate({"mongocat.gridfs.bytes": written})
            return written

    async def _download_to_path(self, file_id: Any, path: str, verify: bool) -> int:
        """Stream a file into a temporary file beside ``path``, then rename it into place."""
        await self.info(file_id)  # FileNotFound before a temporary file is made
        handle, temporary = await asyncio.to_thread(temporary_beside, path)
        written = 0
        try:
            with os.fdopen(handle, "wb") as out:
                async for piece in self.stream(file_id, verify=verify):
                    await asyncio.to_thread(out.write, piece)
                    written += len(piece)
            await asyncio.to_thread(os.replace, temporary, path)
        except BaseException:
            await asyncio.to_thread(remove_quietly, temporary)
            raise
        return written

    def stream(
        self, file_id: Any, *, start: int = 0, end: int | None = None, verify: bool = True
    ) -> AsyncIterator[bytes]:
        """Iterate over a file's bytes ``[start, end)``, fetching only the chunks they lie in.

        Reading the whole file (the default range) checks its SHA-256 once the last
        chunk has arrived: a damaged file raises after its bytes have been yielded,
        so a consumer that must not act on bad data should use :meth:`download` or
        :meth:`download_to`. Every read checks each chunk's number and size.

        Args:
            file_id: The file's ``_id``.
            start: The first byte to return.
            end: One past the last byte to return; None or a value past the end means
                "to the end of the file" (as in slicing).
            verify: Check the SHA-256 when the whole file is read (the default).

        Yields:
            Pieces of the content, at most one chunk each.

        Raises:
            FileNotFound: No file has that id (on the first iteration).
            InvalidRange: ``start`` is negative or past the end, or ``end < start``.
            GridFSIntegrityError: The stored file is damaged.

        Example:
            >>> async for piece in fs.stream(video_id, start=1_000, end=2_000):  # doctest: +SKIP
            ...     await response.send(piece)
        """
        if not is_int(start) or start < 0 or (end is not None and (not is_int(end) or end < start)):
            raise InvalidRange(start, end, None)
        return self._stream(file_id, start, end, verify)

    async def _stream(
        self, file_id: Any, start: int, end: int | None, verify: bool
    ) -> AsyncIterator[bytes]:
        """The body of :meth:`stream`, once its arguments are checked."""
        info = await self.info(file_id)
        async for piece in self._read(info, start, end, verify):
            yield piece

    async def _read(
        self, info: FileInfo, start: int, end: int | None, verify: bool = True
    ) -> AsyncIterator[bytes]:
        """Yield ``info``'s bytes ``[start, end)``, checking chunks and, for all of it, the hash."""
        length, size = info.length, info.chunk_size
        if start > length:
            raise InvalidRange(start, end, length)
        end = length if end is None or end > length else end
        whole = start == 0 and end == length
        digest = Hasher() if verify and whole and info.sha256 is not None else None
        try:
            if start < end:
                first, last = chunk_span(info, start, end)
                cursor = self._chunks.find(
                    {"files_id": {"$eq": info.id}, "n": {"$gte": first, "$lte": last}},
                    sort=[("n", 1)],
                    limit=last - first + 1,
                    batch_size=min(last - first + 1, max(1, READ_BATCH_BYTES // size)),
                )
                expected = first
                async with cursor:
                    async for chunk in cursor:
                        n, data = chunk.get("n"), chunk.get("data")
                        if n != expected:
                            raise self._damaged(info, f"chunk {expected} is missing")
                        want = chunk_size_of(info, n)
                        if not isinstance(data, bytes) or len(data) != want:
                            got = len(data) if isinstance(data, bytes) else type(data).__name__
                            raise self._damaged(info, f"chunk {n} holds {got} bytes, not {want}")
                        if digest is not None:
                            await digest.update(data)
                        offset = n * size
                        if offset >= start and offset + want <= end:
                            yield data
                        else:
                            yield data[max(start - offset, 0) : min(end - offset, want)]
                        expected += 1
                if expected <= last:
                    raise self._damaged(info, f"chunk {expected} is missing")
            if digest is not None:
                actual = await digest.hexdigest()
                if actual != info.sha256:
                    raise self._damaged(
                        info, f"its content hashes to SHA-256 {actual}, not {info.sha256}"
                    )
        finally:
            if digest is not None:
                digest.close()

    def _damaged(self, info: FileInfo, reason: str) -> GridFSIntegrityError:
        return GridFSIntegrityError(reason, bucket=self._bucket, file_id=info.id)

    async def open(self, file_id: Any, *, timeout: float | None = None) -> "GridFSReader":
        """Open a file for reading with ``read(n)`` and ``seek()``, like a binary file.

        Args:
            file_id: The file's ``_id``.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Raises:
            FileNotFound: No file has that id.

        Example:
            >>> async with await fs.open(file_id) as reader:  # doctest: +SKIP
            ...     header = await reader.read(16)
        """
        with self._handle.operation(timeout, "open", self._bucket):
            return GridFSReader(self, await self.info(file_id))


class GridFSReader:
    """A GridFS file opened for reading: ``await read(n)``, ``seek()``, ``tell()``.

    Sequential reads fetch chunks a batch at a time; a seek drops what was fetched
    and the next read starts a new fetch at the chunk holding the new position.
    Reading the whole file from the start without seeking checks its SHA-256.
    """

    __slots__ = ("_buffer", "_fs", "_info", "_pieces", "_position")

    def __init__(self, fs: GridFS, info: FileInfo) -> None:
        self._fs = fs
        self._info = info
        self._position = 0
        self._buffer = b""
        self._pieces: AsyncIterator[bytes] | None = None

    def __repr__(self) -> str:
        return f"GridFSReader(file_id={self._info.id!r}, position={self._position})"

    @property
    def info(self) -> FileInfo:
        """The open file's description."""
        return self._info

    @property
    def length(self) -> int:
        """The file's size in bytes."""
        return self._info.length

    def tell(self) -> int:
        """Return the current position."""
        return self._position

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move to ``offset`` from the start, the current position or the end; return it.

        Raises:
            InvalidRange: The new position would be negative.
        """
        if not is_int(offset) or whence not in (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END):
            raise GridFSError(
                f"seek needs an int offset and whence 0, 1 or 2, not {offset!r}, {whence!r}"
            )
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self.length}[whence]
        position = base + offset
        if position < 0:
            raise InvalidRange(position, None, self.length)
        if position != self._position:
            await self._drop()
            self._position = position
        return position

    async def read(self, size: int = -1, *, timeout: float | None = None) -> bytes:
        """Read up to ``size`` bytes (all that is left if ``size`` is negative).

        Args:
            size: How many bytes to read; negative for the rest of the file.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The bytes read; ``b""`` at the end of the file.

        Raises:
            GridFSIntegrityError: The stored file is damaged.
        """
        if not is_int(size):
            raise GridFSError(f"read needs an int size, not {size!r}")
        with self._fs._handle.operation(timeout, "read", self._fs.bucket):
            return await self._read(size)

    async def _read(self, size: int) -> bytes:
        """The body of :meth:`read`, within its deadline."""
        remaining = self.length - self._position
        wanted = remaining if size < 0 else min(size, remaining)
        if wanted <= 0:
            return b""
        if self._pieces is None:
            self._pieces = self._fs._read(self._info, self._position, None)
        parts: list[bytes] = []
        have = 0
        while have < wanted:
            if not self._buffer:
                self._buffer = await anext(self._pieces)
            take = self._buffer[: wanted - have]
            self._buffer = self._buffer[len(take) :]
            parts.append(take)
            have += len(take)
        self._position += have
        if self._position == self.length and self._buffer == b"":
            # Drain the stream so that a whole-file read checks the hash now.
            async for _ in self._pieces:
                pass
        return b"".join(parts)

    async def _drop(self) -> None:
        """Forget the chunks fetched for the old position."""
        self._buffer = b""
        if self._pieces is not None:
            pieces, self._pieces = self._pieces, None
            await pieces.aclose()  # type: ignore[attr-defined]

    async def close(self) -> None:
        """Release the cursor the reader holds, if any."""
        await self._drop()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
