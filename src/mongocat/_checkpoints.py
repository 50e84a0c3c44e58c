"""Checkpoints kept in MongoDB: a consumer's resume token, saved in a collection."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from ._collection import Collection
from ._errors import ConfigurationError

__all__ = ["CollectionCheckpoint"]


class _Collections(Protocol):
    """What hands out collections by name (a Catalogue)."""

    def collection(self, name: str) -> Collection[dict[str, Any]]: ...


class CollectionCheckpoint:
    """A checkpoint kept in a MongoDB collection, one document per consumer name.

    The document is ``{"_id": name, "token": ..., "saved_at": ...}`` in the collection
    ``collection`` (``mongocat_checkpoints`` by default) of the Catalogue's database.

    Args:
        catalogue: The Catalogue whose database keeps the checkpoint (anything with
            a ``collection(name)`` method that returns a :class:`Collection`).
        name: The consumer's name; each consumer of a stream needs its own.
        collection: The collection to keep checkpoints in.

    Example:
        >>> checkpoint = CollectionCheckpoint(cat, "search-indexer")  # doctest: +SKIP
        >>> async with products.consume(index_product, checkpoint=checkpoint):
        ...     await stop_requested.wait()
    """

    __slots__ = ("_collection", "name")

    def __init__(
        self, catalogue: "_Collections", name: str, *, collection: str = "mongocat_checkpoints"
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"a checkpoint needs a non-empty name, not {name!r}")
        self.name = name
        self._collection = catalogue.collection(collection)

    def __repr__(self) -> str:
        return f"CollectionCheckpoint({self.name!r}, collection={self._collection.name!r})"

    async def load(self) -> dict[str, Any] | None:
        """Return the saved token, or None."""
        found = await self._collection.find_one({"_id": {"$eq": self.name}})
        token = None if found is None else found.get("token")
        return dict(token) if isinstance(token, Mapping) else None

    async def save(self, token: Mapping[str, Any]) -> None:
        """Save ``token`` (upserting the consumer's document)."""
        await self._collection.update_one(
            {"_id": {"$eq": self.name}},
            {"$set": {"token": dict(token), "saved_at": datetime.now(UTC)}},
            upsert=True,
        )
