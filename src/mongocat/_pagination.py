"""Keyset pagination: pages that start after the last sort key, never with skip.

A page token holds the sort key of the page's edge document, a fingerprint of the
filter and sort it belongs to, and an HMAC over both: a token that was altered,
truncated, or made for another query raises :class:`~mongocat.InvalidPageToken`.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal

import bson
import bson.errors

from ._errors import InvalidPageToken, InvalidQuery
from ._paths import is_int
from ._types import DocT

__all__ = ["PROCESS_KEY", "Page", "PageKeys", "PageQuery"]

#: The key tokens are signed with when the Catalogue is given none: random per process,
#: so tokens do not survive a restart or travel between processes.
PROCESS_KEY: Final = secrets.token_bytes(32)

_MAC_BYTES: Final = 16
_VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class Page(Generic[DocT]):
    """One page of a keyset-paginated query.

    Attributes:
        items: The documents, in the query's sort order.
        next_token: Pass as ``after=`` for the next page; None on the last page.
        prev_token: Pass as ``before=`` for the previous page; None on the first page.
    """

    items: list[DocT]
    next_token: str | None
    prev_token: str | None


def _lookup(document: Mapping[str, Any], path: str) -> Any:
    """Return the value at a dotted path, or raise if the document lacks it."""
    value: Any = document
    for segment in path.split("."):
        if not isinstance(value, Mapping) or segment not in value:
            raise InvalidQuery(
                f"a document has no {path!r}, a sort key of the pagination: every document "
                "must have each sort field (one BSON type per field), and a projection must "
                "keep them"
            )
        value = value[segment]
    return value


class PageKeys:
    """The sort keys of a paginated query (``_id`` last, as the tie-breaker) and its tokens."""

    __slots__ = ("_fingerprint", "_key", "keys")

    def __init__(
        self, sort: Sequence[tuple[str, Any]], filter: Mapping[str, Any], key: bytes
    ) -> None:
        keys = list(sort)
        for field, direction in keys:
            if direction not in (1, -1):
                raise InvalidQuery(
                    f"paginate() sorts by field values, 1 or -1; {field!r} has {direction!r}"
                )
        if all(field != "_id" for field, _ in keys):
            keys.append(("_id", 1))
        self.keys = keys
        self._key = key
        try:
            described = bson.encode({"f": filter, "s": [[f, d] for f, d in keys]})
        except (bson.errors.BSONError, TypeError) as exc:
            raise InvalidQuery(f"cannot paginate a filter that is not BSON: {exc}") from exc
        self._fingerprint = hashlib.sha256(described).digest()[:8]

    def sort(self, forward: bool) -> list[tuple[str, int]]:
        """The sort to query with: as given forward, reversed backward."""
        return [(field, d if forward else -d) for field, d in self.keys]

    def token(self, document: Mapping[str, Any], direction: Literal["after", "before"]) -> str:
        """Make the token that starts a page after (or before) ``document``."""
        values = [_lookup(document, field) for field, _ in self.keys]
        payload = bson.encode({"v": _VERSION, "d": direction, "k": values, "f": self._fingerprint})
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(payload + mac).rstrip(b"=").decode("ascii")

    def read(self, token: str, direction: Literal["after", "before"]) -> list[Any]:
        """Check a token and return the sort key values it holds."""
        bad = "the page token is invalid: it was altered, truncated or made for another "
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise InvalidPageToken(bad + "query; start again from the first page") from exc
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]
        if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, expected):
            raise InvalidPageToken(
                bad + "query, or by another process (set page_token_key= on the Catalogue "
                "to share tokens); start again from the first page"
            )
        content = bson.decode(payload)
        if content.get("v") != _VERSION or content.get("f") != self._fingerprint:
            raise InvalidPageToken(
                "the page token belongs to a query with another filter or sort; pass the "
                "same filter and sort as the page that gave it"
            )
        if content.get("d") != direction:
            other = "before" if direction == "after" else "after"
            raise InvalidPageToken(
                f"this is a {content.get('d')!r} token: pass it as {other}=, not {direction}="
            )
        values: list[Any] = content["k"]
        return values

    def beyond(self, values: Sequence[Any], forward: bool) -> dict[str, Any]:
        """The filter for documents strictly after (or before) the given key values."""
        first, first_direction = self.keys[0]
        bound = "$gte" if (first_direction == 1) == forward else "$lte"
        branches: list[dict[str, Any]] = []
        for i, (field, direction) in enumerate(self.keys):
            branch: dict[str, Any] = {
                prior: {"$eq": values[j]} for j, (prior, _) in enumerate(self.keys[:i])
            }
            branch[field] = {"$gt" if (direction == 1) == forward else "$lt": values[i]}
            branches.append(branch)
        # The bound on the leading key lets the planner scan one index range.
        return {first: {bound: values[0]}, "$or": branches}


@dataclass(frozen=True, slots=True)
class PageQuery:
    """The query that fetches one page, and how to make the page from its rows.

    It asks for one row more than the page holds: that row's presence says whether
    there is a page beyond this one.
    """

    keys: PageKeys
    filter: Mapping[str, Any]
    sort: list[tuple[str, int]]
    size: int
    forward: bool
    from_token: bool

    @classmethod
    def build(
        cls,
        filter: Mapping[str, Any],
        sort: Sequence[tuple[str, Any]] | None,
        *,
        limit: int,
        after: str | None,
        before: str | None,
        key: bytes,
    ) -> "PageQuery":
        """Check the arguments of ``paginate()`` and build the query for its page.

        Raises:
            InvalidQuery: No sort, a bad limit, or both ``after`` and ``before``.
            InvalidPageToken: A token was altered, truncated, or made for another query.
        """
        if not is_int(limit) or limit < 1:
            raise InvalidQuery(f"paginate() limit must be a positive int, not {limit!r}")
        if after is not None and before is not None:
            raise InvalidQuery("paginate() takes after= or before=, not both")
        if not sort:
            raise InvalidQuery("paginate() needs a sort, e.g. sort=Sort.asc('price')")
        keys = PageKeys(sort, filter, key)
        forward = before is None
        token = after if forward else before
        query = filter
        if token is not None:
            anchor = keys.read(token, "after" if forward else "before")
            beyond = keys.beyond(anchor, forward)
            query = {"$and": [filter, beyond]} if filter else beyond
        return cls(keys, query, keys.sort(forward), limit, forward, token is not None)

    @property
    def limit(self) -> int:
        """The limit to query with: one row more than the page."""
        return self.size + 1

    def page(
        self, rows: list[dict[str, Any]], decode_all: Callable[[list[Any]], list[Any]]
    ) -> Page[Any]:
        """Make the page from the rows the query returned (stored documents).

        Tokens are made from the stored documents; the page holds them decoded.
        """
        more = len(rows) > self.size
        raw = rows[: self.size]
        if not self.forward:
            raw.reverse()
        if not raw:
            return Page([], None, None)
        # Going forward, there is a previous page if we started from a token; going
        # backward, there is a next page (the token's own document at least).
        has_next = more if self.forward else True
        has_prev = self.from_token if self.forward else more
        return Page(
            decode_all(raw),
            self.keys.token(raw[-1], "after") if has_next else None,
            self.keys.token(raw[0], "before") if has_prev else None,
        )
