"""GridFS's pure parts: cutting a source into chunks, and reading a files document."""

import asyncio
import io
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from mongocat import FileInfo
from mongocat._gridfs_chunks import chunks_of, raw_pieces


def chunk(source: object, size: int) -> list[bytes]:
    async def collect() -> list[bytes]:
        return [c async for c in chunks_of(raw_pieces(source, size), size)]  # type: ignore[arg-type]

    return asyncio.run(collect())


@given(st.lists(st.binary(max_size=50), max_size=20), st.integers(min_value=1, max_value=17))
def test_any_pieces_become_full_chunks_and_a_shorter_last(pieces: list[bytes], size: int) -> None:
    chunks = chunk(pieces, size)
    content = b"".join(pieces)
    assert b"".join(chunks) == content
    assert all(len(c) == size for c in chunks[:-1])
    assert len(chunks) == -(-len(content) // size)
    assert all(type(c) is bytes for c in chunks)


def test_bytes_and_file_objects_cut_the_same_way() -> None:
    content = bytes(range(256)) * 10
    expected = [content[i : i + 100] for i in range(0, len(content), 100)]
    assert chunk(content, 100) == expected
    assert chunk(io.BytesIO(content), 100) == expected
    assert chunk(memoryview(content), 100) == expected
    assert chunk(b"", 100) == []


def test_file_info_reads_a_files_document_written_by_any_tool() -> None:
    when = datetime(2026, 1, 2, tzinfo=UTC)
    info = FileInfo.from_document(
        {"_id": 7, "length": 10, "chunkSize": 4, "uploadDate": when, "filename": "a"}
    )
    assert info == FileInfo(7, "a", 10, 4, when, None, None, None)
    assert info.chunk_count == 3
    assert (
        FileInfo.from_document(
            {"_id": 1, "length": 0, "chunkSize": 4, "uploadDate": when}
        ).chunk_count
        == 0
    )
