"""Check the documents a write would store: field names and nesting, before sending.

The checks mirror what the server refuses or misreads, so that the error names the
offending path and nothing has been sent.
"""

from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any, Final

import bson
from bson.codec_options import CodecOptions

from ._errors import InvalidDocument
from ._paths import SCALAR_TYPES, remember

__all__ = [
    "MAX_NESTING",
    "STORING_OPERATORS",
    "check_document",
    "check_documents",
    "check_update_values",
    "encode_stored",
    "flat_with_valid_names",
    "walk_document",
]

#: How deeply documents may nest: the server refuses more than 100 levels (and 180 in a
#: stored document with its own wrapping), so mongocat refuses more than 100.
MAX_NESTING = 100


def check_document(document: Any, *, allow_dollar_fields: bool = False) -> None:
    """Refuse a document to store whose field names the server would refuse or misread.

    A document is a mapping. Names must be non-empty strings without NUL or ``.`` and
    must not start with ``$`` (at any depth: such a field reads as an operator, and a
    dotted one as a path, when the document is later used in a query, a sort or an
    update: the rule every other place that takes a field name applies), and nesting
    must stay within :data:`MAX_NESTING` levels. The error names the offending path;
    nothing has been sent.

    With ``allow_dollar_fields`` (the opt-in for data that has such names, MongoDB
    5.0+), ``$``-prefixed, dotted and empty names are stored as they are; names must
    still be strings without NUL, and nesting is still checked.

    Raises:
        InvalidDocument: The first offending field, by path.
    """
    strict = not allow_dollar_fields
    if type(document) is dict and flat_with_valid_names((document,), strict):
        return  # the common case: a flat document, its names checked once and remembered
    walk_document(document, strict)


def walk_document(document: Any, strict: bool) -> None:
    """:func:`check_document` for a document :func:`flat_with_valid_names` did not pass.

    ``strict`` is the name rule without ``allow_dollar_fields``.

    Raises:
        InvalidDocument: The first offending field, by path, or ``document`` is not a
            mapping.
    """
    if type(document) is dict or isinstance(document, Mapping):
        _check_fields(document, "", 1, strict)
        return
    raise InvalidDocument(
        f"a document to store is a mapping such as {{'sku': 'W-1'}} (or the collection's "
        f"dataclass or model), not {type(document).__name__} {_shown(document)}"
        + ("; insert_many() takes a list of documents" if isinstance(document, list) else "")
    )


def encode_stored(
    document: Any, *, allow_dollar_fields: bool, codec_options: CodecOptions[Any]
) -> bytes:
    """Check a document to store as :func:`check_document` does, and encode it to BSON.

    A flat ``dict`` (the common case) is checked as :func:`check_documents` checks a
    batch (its names remembered); any other document is walked. The bytes are
    encoded with the collection's ``codec_options``, as the driver would encode them.

    Raises:
        InvalidDocument: As :func:`check_document`.
        bson.errors.InvalidDocument: A value BSON cannot encode.
    """
    strict = not allow_dollar_fields
    if not flat_with_valid_names((document,), strict):
        walk_document(document, strict)
    return bson.encode(document, codec_options=codec_options)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:56] + "...>"


def check_documents(documents: Sequence[Any], *, allow_dollar_fields: bool = False) -> None:
    """:func:`check_document` for each document, naming the position of a bad one.

    A batch of flat ``dict`` documents (every value a scalar: the common case) is
    checked at C speed: the value types of the whole batch in one pass, and the field
    names once per distinct key sequence (remembered across batches). Any other batch,
    or one with a bad name, is walked document by document, to name the offender.
    """
    if flat_with_valid_names(documents, not allow_dollar_fields):
        return
    for position, document in enumerate(documents):
        try:
            check_document(document, allow_dollar_fields=allow_dollar_fields)
        except InvalidDocument as error:
            raise InvalidDocument(f"document #{position}: {error.message}") from None


#: Field names of flat documents found valid, without and with the strict name rule.
_VALID_NAMES: Final[tuple[set[Any], set[Any]]] = (set(), set())


_DICT: Final = frozenset({dict})


def flat_with_valid_names(documents: Sequence[Any], strict: bool) -> bool:
    """Whether every document is a flat dict whose names pass (False: walk them).

    A name not seen before is checked by the walk's own rule, once.
    """
    valid = _VALID_NAMES[strict]
    if len(documents) == 1:  # insert_one, a bulk writer's insert: no batch-wide sets
        document = documents[0]
        if (
            type(document) is dict
            and valid.issuperset(document)
            and SCALAR_TYPES.issuperset(map(type, document.values()))
        ):
            return True
    if not _DICT.issuperset(map(type, documents)):
        return False
    if not SCALAR_TYPES.issuperset(map(type, chain.from_iterable(map(dict.values, documents)))):
        return False  # a nested document or list, or a value of another type
    if valid.issuperset(chain.from_iterable(documents)):
        return True  # the common case: every name seen before
    for key in set(chain.from_iterable(documents)) - valid:
        try:
            _check_fields({key: None}, "", 1, strict)
        except InvalidDocument:
            return False
        remember(valid, key)
    return True


def _check_fields(document: Mapping[Any, Any], prefix: str, depth: int, strict: bool) -> None:
    if depth > MAX_NESTING:
        _too_deep(prefix)
    for key, value in document.items():
        if type(key) is not str or "\x00" in key:
            _bad_name(key, prefix)
        if strict and (key[:1] == "$" or "." in key or not key):
            _bad_name(key, prefix)
        kind = type(value)
        if kind in SCALAR_TYPES:
            continue
        if kind is dict or (kind is not list and isinstance(value, Mapping)):
            _check_fields(value, f"{prefix}{key}.", depth + 1, strict)
        elif kind is list:
            _check_items(value, f"{prefix}{key}.", depth + 1, strict)


def _check_items(items: list[Any], prefix: str, depth: int, strict: bool) -> None:
    if depth > MAX_NESTING:
        _too_deep(prefix)
    for position, item in enumerate(items):
        kind = type(item)
        if kind in SCALAR_TYPES:
            continue
        if kind is dict or (kind is not list and isinstance(item, Mapping)):
            _check_fields(item, f"{prefix}{position}.", depth + 1, strict)
        elif kind is list:
            _check_items(item, f"{prefix}{position}.", depth + 1, strict)


#: The update operators whose values are stored as they are (``$push`` and
#: ``$addToSet`` may wrap them in ``{"$each": [...], ...}`` with modifiers; ``$min``
#: and ``$max`` store their value when it is the lesser or the greater).
STORING_OPERATORS: Final = ("$set", "$setOnInsert", "$push", "$addToSet", "$min", "$max")


def check_update_values(update: Mapping[str, Any]) -> None:
    """Refuse an update that would store a field name :func:`check_document` refuses.

    The values of ``$set``, ``$setOnInsert``, ``$push``, ``$addToSet`` (each
    element of a ``$each``), ``$min`` and ``$max`` are stored, so they follow the
    stored-document rule: one rule for every write (``Update.set(meta={"$ne": 1})`` is refused as
    ``insert_one({"meta": {"$ne": 1}})`` is).

    Raises:
        InvalidDocument: The first offending field, by the path it would have.
    """
    if update.keys().isdisjoint(STORING_OPERATORS):
        return  # $inc, $unset, ...: nothing they take is stored as a document
    for operator in STORING_OPERATORS:
        fields = update.get(operator)
        if not isinstance(fields, Mapping):
            continue
        for path, value in fields.items():
            if type(value) in SCALAR_TYPES:
                continue
            values = [value]
            modifiers = operator in ("$push", "$addToSet") and isinstance(value, Mapping)
            if modifiers and "$each" in value:
                each = value["$each"]
                values = list(each) if isinstance(each, list | tuple) else []
            for stored in values:
                if type(stored) in SCALAR_TYPES:
                    continue
                try:
                    if isinstance(stored, Mapping):
                        _check_fields(stored, f"{path}.", 2, True)
                    elif isinstance(stored, list):
                        _check_items(stored, f"{path}.", 2, True)
                except InvalidDocument as error:
                    raise InvalidDocument(
                        f"{operator} would store it: {error.message}; pass "
                        "allow_dollar_fields=True to cat.collection() to store such names"
                    ) from None


def _too_deep(prefix: str) -> None:
    raise InvalidDocument(
        f"{prefix.rstrip('.') or 'the document'} nests more than {MAX_NESTING} levels deep, "
        "which the server refuses; flatten the structure"
    )


def _bad_name(key: Any, prefix: str) -> None:
    if type(key) is not str:
        raise InvalidDocument(
            f"field name {key!r} at {prefix.rstrip('.') or 'the top level'} is a "
            f"{type(key).__name__}; BSON field names are strings: use str({key!r})"
        )
    if key.startswith("$"):
        raise InvalidDocument(
            f"field {prefix + key!r} starts with '$', which reads as an operator in queries "
            "and updates; rename the field (a stored document never needs it)"
        )
    if not key:
        raise InvalidDocument(
            f"a field at {prefix.rstrip('.') or 'the top level'} has an empty name, which no "
            "query can name; give it a name"
        )
    if "." in key:
        raise InvalidDocument(
            f"field {prefix + key!r} has a '.' in its name, which queries, sorts and updates "
            "read as a path into a sub-document; rename it, or nest it: "
            f"{{{key.split('.', 1)[0]!r}: {{{key.split('.', 1)[1]!r}: ...}}}}"
        )
    raise InvalidDocument(
        f"field {prefix + key!r} contains a NUL character, which BSON cannot store; remove it"
    )
