"""GridFS over the wire, on both drivers."""

import asyncio
import hashlib
import io
import os
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from mongocat import (
    Catalogue,
    CatalogueClosed,
    ConfigurationError,
    DocumentNotFound,
    DuplicateKeyError,
    F,
    FileInfo,
    FileNotFound,
    GridFS,
    GridFSError,
    GridFSIntegrityError,
    InvalidRange,
)
from mongocat.testing import CommandRecorder

CHUNK = 255 * 1024


def data_of(size: int, seed: int = 0) -> bytes:
    """Reproducible bytes that differ from chunk to chunk."""
    return random.Random(seed).randbytes(size)


@pytest.fixture
def fs(catalogue: Catalogue) -> GridFS:
    return catalogue.gridfs()


@pytest.mark.parametrize(
    "size",
    [
        pytest.param(0, id="empty"),
        pytest.param(1, id="one-byte"),
        pytest.param(CHUNK, id="exactly-one-chunk"),
        pytest.param(CHUNK + 1, id="one-chunk-and-a-byte"),
        pytest.param(5 * 1024 * 1024, id="5MB"),
    ],
)
async def test_round_trip_is_byte_exact(fs: GridFS, size: int) -> None:
    content = data_of(size)
    file_id = await fs.upload("file.bin", content, metadata={"size": size})
    assert await fs.download(file_id) == content
    info = await fs.info(file_id)
    assert (info.id, info.filename, info.length, info.chunk_size) == (
        file_id,
        "file.bin",
        size,
        CHUNK,
    )
    assert info.sha256 == hashlib.sha256(content).hexdigest()
    assert info.metadata == {"size": size}
    chunks = fs._chunks
    assert await chunks.count({"files_id": file_id}) == -(-size // CHUNK)


async def test_20MB_upload_from_an_async_generator(fs: GridFS) -> None:
    size = 20 * 1024 * 1024
    content = data_of(size, seed=20)
    step = 100_003  # pieces that never line up with chunks

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, size, step):
            yield content[start : start + step]

    file_id = await fs.upload("big.bin", pieces())
    info = await fs.info(file_id)
    assert info.length == size
    assert info.sha256 == hashlib.sha256(content).hexdigest()
    received = bytearray()
    async for piece in fs.stream(file_id):
        assert len(piece) <= CHUNK
        received += piece
    assert received == content


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(lambda b: bytearray(b), id="bytearray"),
        pytest.param(lambda b: memoryview(b), id="memoryview"),
        pytest.param(lambda b: io.BytesIO(b), id="BytesIO"),
        pytest.param(lambda b: iter([b[:10], b"", b[10:]]), id="iterator"),
        pytest.param(lambda b: [b[i : i + 7] for i in range(0, len(b), 7)], id="list-of-pieces"),
    ],
)
async def test_every_kind_of_source_uploads_the_same_bytes(fs: GridFS, source: Any) -> None:
    content = data_of(CHUNK * 2 + 5, seed=3)
    file_id = await fs.upload("s.bin", source(content))
    assert await fs.download(file_id) == content


async def test_uploads_from_a_file_on_disk_and_an_async_reader(fs: GridFS, tmp_path: Path) -> None:
    content = data_of(600_000, seed=4)
    path = tmp_path / "in.bin"
    path.write_bytes(content)
    with path.open("rb") as handle:
        from_disk = await fs.upload("disk.bin", handle)

    class AsyncReader:
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        async def read(self, size: int) -> bytes:
            return self._data.read(size)

    from_async = await fs.upload("async.bin", AsyncReader(content))
    assert await fs.download(from_disk) == content
    assert await fs.download(from_async) == content


@pytest.mark.parametrize(
    ("start", "end", "chunks"),
    [
        pytest.param(1_000_000, 1_000_100, (3, 3), id="inside-one-chunk"),
        pytest.param(CHUNK - 10, CHUNK + 10, (0, 1), id="across-a-boundary"),
        pytest.param(0, 1, (0, 0), id="first-byte"),
    ],
)
async def test_a_range_read_fetches_only_the_chunks_that_hold_it(
    catalogue_factory: Any, start: int, end: int, chunks: tuple[int, int]
) -> None:
    recorder = CommandRecorder()
    async with catalogue_factory(event_listeners=[recorder]) as cat:
        fs = cat.gridfs()
        content = data_of(5 * 1024 * 1024, seed=5)
        file_id = await fs.upload("video.mp4", content)
        recorder.clear()
        received = b"".join([piece async for piece in fs.stream(file_id, start=start, end=end)])
    assert received == content[start:end]
    chunk_finds = [c for c in recorder.commands("find") if c["find"] == "fs.chunks"]
    assert len(chunk_finds) == 1
    first, last = chunks
    assert chunk_finds[0]["filter"] == {
        "files_id": {"$eq": file_id},
        "n": {"$gte": first, "$lte": last},
    }
    assert chunk_finds[0]["limit"] == last - first + 1
    assert recorder.commands("getMore") == []


async def test_range_end_past_the_file_is_capped_and_bad_ranges_are_refused(fs: GridFS) -> None:
    content = data_of(1000)
    file_id = await fs.upload("r.bin", content)
    assert b"".join([p async for p in fs.stream(file_id, start=990, end=5000)]) == content[990:]
    assert [p async for p in fs.stream(file_id, start=1000)] == []
    with pytest.raises(InvalidRange, match="1001"):
        [p async for p in fs.stream(file_id, start=1001)]
    for start, end in [(-1, None), (10, 5), (1.5, None), (0, "9")]:
        with pytest.raises(InvalidRange):
            fs.stream(file_id, start=start, end=end)  # type: ignore[arg-type]


async def corrupt(fs: GridFS, file_id: Any, n: int, data: bytes | None) -> None:
    """Overwrite (or with None, delete) chunk ``n`` of a file."""
    chunks = fs._chunks
    if data is None:
        await chunks.delete_one({"files_id": file_id, "n": n})
    else:
        await chunks.update_one({"files_id": file_id, "n": n}, {"$set": {"data": data}})


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        pytest.param(b"\x00" * CHUNK, "hashes to SHA-256", id="same-size-other-bytes"),
        pytest.param(b"short", "chunk 1 holds 5 bytes", id="truncated-chunk"),
        pytest.param(None, "chunk 1 is missing", id="missing-chunk"),
    ],
)
async def test_a_damaged_file_raises_integrity_error(
    fs: GridFS, damage: bytes | None, message: str, tmp_path: Path
) -> None:
    file_id = await fs.upload("d.bin", data_of(3 * CHUNK, seed=6))
    await corrupt(fs, file_id, 1, damage)
    with pytest.raises(GridFSIntegrityError, match=message) as info:
        await fs.download(file_id)
    assert info.value.file_id == file_id
    assert info.value.bucket == "fs"
    # download_to a path leaves no partial file behind.
    target = tmp_path / "out.bin"
    with pytest.raises(GridFSIntegrityError):
        await fs.download_to(file_id, target)
    assert os.listdir(tmp_path) == []


async def test_reading_all_of_a_damaged_file_through_open_raises(fs: GridFS) -> None:
    content = data_of(2 * CHUNK + 100, seed=7)
    file_id = await fs.upload("d.bin", content)
    await corrupt(fs, file_id, 2, b"\xff" * 100)
    async with await fs.open(file_id) as reader:
        with pytest.raises(GridFSIntegrityError, match="SHA-256"):
            await reader.read()
    # A range that avoids the damaged chunk still reads: only whole reads are hashed.
    assert b"".join([p async for p in fs.stream(file_id, end=CHUNK)]) == content[:CHUNK]


async def test_reader_reads_seeks_and_tells(fs: GridFS) -> None:
    content = data_of(3 * CHUNK + 17, seed=8)
    file_id = await fs.upload("r.bin", content)
    async with await fs.open(file_id) as reader:
        assert reader.length == len(content)
        assert await reader.read(10) == content[:10]
        assert reader.tell() == 10
        assert await reader.read(CHUNK) == content[10 : CHUNK + 10]
        assert await reader.seek(-17, os.SEEK_END) == len(content) - 17
        assert await reader.read() == content[-17:]
        assert await reader.read(5) == b""
        assert await reader.seek(CHUNK * 2 - 3) == CHUNK * 2 - 3
        assert await reader.read(6) == content[CHUNK * 2 - 3 : CHUNK * 2 + 3]
        assert await reader.seek(4, os.SEEK_CUR) == CHUNK * 2 + 7
        assert await reader.read(1) == content[CHUNK * 2 + 7 : CHUNK * 2 + 8]
        await reader.seek(0)
        assert await reader.read() == content
        with pytest.raises(InvalidRange):
            await reader.seek(-1)


async def test_download_to_a_path_and_to_writers(fs: GridFS, tmp_path: Path) -> None:
    content = data_of(CHUNK * 2 + 1, seed=9)
    file_id = await fs.upload("w.bin", content)
    path = tmp_path / "out.bin"
    assert await fs.download_to(file_id, path) == len(content)
    assert path.read_bytes() == content
    buffer = io.BytesIO()
    assert await fs.download_to(file_id, buffer) == len(content)
    assert buffer.getvalue() == content

    class AsyncWriter:
        def __init__(self) -> None:
            self.parts: list[bytes] = []

        async def write(self, data: bytes) -> None:
            self.parts.append(data)

    writer = AsyncWriter()
    await fs.download_to(file_id, writer)
    assert b"".join(writer.parts) == content
    with pytest.raises(GridFSError, match="write"):
        await fs.download_to(file_id, 42)  # type: ignore[arg-type]


async def test_find_by_metadata_and_file_info(fs: GridFS) -> None:
    ann = await fs.upload("a.png", b"a", metadata={"owner": "ann"}, content_type="image/png")
    await fs.upload("b.txt", b"bb", metadata={"owner": "bob"}, content_type="text/plain")
    await fs.upload("c.png", b"ccc", metadata={"owner": "ann"})
    found = await fs.find(F.metadata.owner == "ann", sort="filename")
    assert [f.filename for f in found] == ["a.png", "c.png"]
    first = found[0]
    assert isinstance(first, FileInfo)
    assert (first.id, first.length, first.content_type, first.metadata) == (
        ann,
        1,
        "image/png",
        {"owner": "ann"},
    )
    assert first.upload_date.tzinfo is not None or first.upload_date.year > 2000
    assert [f.filename for f in await fs.find(F.length >= 2, sort=[("length", -1)], limit=1)] == [
        "c.png"
    ]
    assert [f.filename for f in await fs.find({"contentType": "text/plain"})] == ["b.txt"]


async def test_revisions_latest_replace_rename_and_delete(fs: GridFS) -> None:
    first = await fs.upload("doc.txt", b"v1", metadata={"lang": "en"}, content_type="text/plain")
    second = await fs.replace("doc.txt", b"v2")
    latest = await fs.latest("doc.txt")
    assert latest.id == second
    assert (latest.metadata, latest.content_type) == ({"lang": "en"}, "text/plain")
    assert await fs.download(latest.id) == b"v2"
    assert [r.id for r in await fs.revisions("doc.txt")] == [first, second]
    third = await fs.replace("doc.txt", b"v3", metadata={"lang": "de"}, delete_old=True)
    assert [r.id for r in await fs.revisions("doc.txt")] == [third]
    assert not await fs.exists(first)
    await fs.rename(third, "renamed.txt")
    assert (await fs.latest("renamed.txt")).id == third
    with pytest.raises(FileNotFound, match=r"doc\.txt"):
        await fs.latest("doc.txt")
    with pytest.raises(FileNotFound):
        await fs.replace("doc.txt", b"v4")
    await fs.delete(third)
    assert not await fs.exists(third)
    chunks = fs._chunks
    assert await chunks.count({}) == 0


async def test_a_missing_file_raises_file_not_found_everywhere(fs: GridFS) -> None:
    missing = ObjectId()
    calls = [
        fs.download(missing),
        fs.info(missing),
        fs.delete(missing),
        fs.rename(missing, "x"),
        fs.open(missing),
        fs.download_to(missing, io.BytesIO()),
    ]
    for call in calls:
        with pytest.raises(FileNotFound) as info:
            await call
        assert info.value.file_id == missing
        assert isinstance(info.value, DocumentNotFound)  # so one 404 handler serves both
    with pytest.raises(FileNotFound):
        [p async for p in fs.stream(missing)]


async def test_an_operator_document_as_file_id_matches_nothing(fs: GridFS) -> None:
    await fs.upload("a", b"a")
    with pytest.raises(FileNotFound):
        await fs.download({"$ne": None})
    assert not await fs.exists({"$gt": ""})


async def test_a_failed_upload_leaves_nothing_behind(fs: GridFS) -> None:
    class Broken(Exception):
        pass

    def pieces() -> Iterator[bytes]:
        yield data_of(3 * CHUNK)
        raise Broken

    with pytest.raises(Broken):
        await fs.upload("broken.bin", pieces())
    chunks = fs._chunks
    assert await chunks.count({}) == 0
    assert await fs.find() == []

    def text() -> Iterator[Any]:
        yield b"x" * CHUNK
        yield "text"

    with pytest.raises(GridFSError, match="gave a str"):
        await fs.upload("text.bin", text())
    assert await chunks.count({}) == 0


async def test_a_duplicate_file_id_fails_and_keeps_the_existing_file(fs: GridFS) -> None:
    content = data_of(2 * CHUNK, seed=11)
    await fs.upload("one", content, file_id="fixed")
    with pytest.raises(DuplicateKeyError):
        await fs.upload("two", data_of(3 * CHUNK, seed=12), file_id="fixed")
    assert await fs.download("fixed") == content
    empty = await fs.upload("empty", b"", file_id="empty")
    with pytest.raises(DuplicateKeyError):
        await fs.upload("clash", data_of(CHUNK, seed=13), file_id=empty)
    assert await fs.download(empty) == b""
    chunks = fs._chunks
    assert await chunks.count({"files_id": "empty"}) == 0


async def test_bad_arguments_are_refused_before_anything_is_sent(catalogue: Catalogue) -> None:
    fs = catalogue.gridfs()
    with pytest.raises(GridFSError, match="str"):
        await fs.upload("a.txt", "text")  # type: ignore[arg-type]
    with pytest.raises(GridFSError, match="int"):
        await fs.upload("a.txt", 42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="filename"):
        await fs.upload("", b"x")
    with pytest.raises(GridFSError, match="metadata"):
        await fs.upload("a", b"x", metadata=[1])  # type: ignore[arg-type]
    for size in (0, -1, True, 17 * 1024 * 1024):
        with pytest.raises(ConfigurationError, match="chunk_size"):
            catalogue.gridfs(chunk_size=size)
    with pytest.raises(ConfigurationError, match="bucket"):
        catalogue.gridfs("")
    assert "fs.files" not in await catalogue.list_collection_names()


async def test_the_spec_indexes_are_created_on_first_upload(catalogue: Catalogue) -> None:
    fs = catalogue.gridfs("images", chunk_size=1024)
    await fs.upload("a", b"x" * 3000)
    files = {i.name: i for i in await catalogue.collection("images.files").indexes.list()}
    chunks = {i.name: i for i in await catalogue.collection("images.chunks").indexes.list()}
    assert files["filename_1_uploadDate_1"].key == {"filename": 1, "uploadDate": 1}
    assert chunks["files_id_1_n_1"].key == {"files_id": 1, "n": 1}
    assert chunks["files_id_1_n_1"].options.get("unique") is True


async def test_an_upload_in_an_aborted_transaction_is_not_stored(catalogue: Catalogue) -> None:
    fs = catalogue.gridfs()
    await fs.upload("warm-up", b"creates the collections and indexes")

    class Cancelled(Exception):
        pass

    async def upload_then_fail() -> None:
        async with catalogue.transaction():
            await fs.upload("in-tx", data_of(2 * CHUNK))
            raise Cancelled

    with pytest.raises(Cancelled):
        await upload_then_fail()
    assert [f.filename for f in await fs.find()] == ["warm-up"]
    assert await catalogue.collection("fs.chunks").count({}) == 1


async def test_files_interoperate_with_the_drivers_own_bucket(catalogue: Catalogue) -> None:
    if catalogue.driver == "motor":
        from motor.motor_asyncio import AsyncIOMotorGridFSBucket

        bucket: Any = AsyncIOMotorGridFSBucket(catalogue.database)
    else:
        from gridfs import AsyncGridFSBucket

        bucket = AsyncGridFSBucket(catalogue.database)
    fs = catalogue.gridfs()
    content = data_of(3 * CHUNK + 9, seed=14)
    ours = await fs.upload("ours.bin", content)
    stream = await bucket.open_download_stream(ours)
    assert await stream.read() == content
    theirs = await bucket.upload_from_stream("theirs.bin", content)
    assert await fs.download(theirs) == content
    info = await fs.info(theirs)
    assert (info.filename, info.length, info.sha256) == ("theirs.bin", len(content), None)
    assert (
        b"".join([p async for p in fs.stream(theirs, start=CHUNK, end=CHUNK + 9)])
        == (content[CHUNK : CHUNK + 9])
    )


async def test_a_closed_catalogue_refuses_gridfs(catalogue: Catalogue) -> None:
    fs = catalogue.gridfs()
    await catalogue.close()
    with pytest.raises(CatalogueClosed):
        await fs.upload("a", b"x")
    with pytest.raises(CatalogueClosed):
        catalogue.gridfs()


async def test_a_cancelled_upload_deletes_the_chunks_it_wrote(fs: GridFS) -> None:
    sent_some = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield data_of(40 * CHUNK)  # more than one insert batch
        sent_some.set()
        await asyncio.sleep(3600)
        yield b"never"

    upload = asyncio.create_task(fs.upload("slow.bin", slow()))
    await sent_some.wait()
    chunks = fs._chunks
    # The generator resumes only after the full batches before it were written.
    assert await chunks.count({}) > 0
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload
    assert await chunks.count({}) == 0
    assert await fs.find() == []


async def test_verify_false_skips_only_the_hash(fs: GridFS) -> None:
    content = data_of(3 * CHUNK, seed=15)
    file_id = await fs.upload("v.bin", content)
    await corrupt(fs, file_id, 1, b"\x00" * CHUNK)
    damaged = await fs.download(file_id, verify=False)
    assert damaged[:CHUNK] == content[:CHUNK]
    assert damaged[CHUNK : 2 * CHUNK] == b"\x00" * CHUNK
    await corrupt(fs, file_id, 2, b"short")
    with pytest.raises(GridFSIntegrityError, match="chunk 2 holds 5 bytes"):
        await fs.download(file_id, verify=False)
