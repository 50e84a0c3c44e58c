"""How one collection's documents cross the wire: encode and check out, decode in.

A :class:`DocumentCoder` is the glue between a collection and its document type's
codec (:mod:`mongocat._models`): for ``dict`` and TypedDict documents it does
nothing but the stored-document check on writes; for dataclasses and models it
encodes on writes and decodes on reads, applying the collection's ``on_invalid``
policy to stored documents that do not fit.
"""

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, cast

from ._coercion import as_replacement
from ._document_checks import (
    check_documents,
    check_update_values,
    flat_with_valid_names,
    walk_document,
)
from ._errors import ConfigurationError, DocumentDecodeError, InvalidDocument
from ._models import DecodeFailure, DocumentCodec, codec_for, is_model_type
from ._paths import flag
from ._types import OnInvalid

__all__ = ["SKIP", "Decoder", "DocumentCoder", "decode_rows"]

_log = logging.getLogger("mongocat")

#: What a decoder returns for a document it skips (``on_invalid="skip"``).
SKIP: Final[Any] = object()

#: Turns a stored document into a collection's document type (or SKIP).
Decoder = Callable[[Any], Any]

_ON_INVALID: Final = ("raise", "skip", "raw")


def decode_rows(decode: Decoder, rows: list[Any]) -> tuple[list[Any], int]:
    """Decode stored documents, leaving out the skipped ones; also say how many."""
    values = [decode(row) for row in rows]
    kept = [value for value in values if value is not SKIP]
    return kept, len(values) - len(kept)


def _no_rule(update: Mapping[str, Any]) -> None:
    """``check_update`` with ``allow_dollar_fields``: any stored name is allowed."""


class DocumentCoder:
    """The encoder, decoder and skip count of one collection's document type."""

    __slots__ = (
        "allow_dollar_fields",
        "check_update",
        "decode",
        "encode",
        "namespace",
        "on_invalid",
        "skipped",
    )

    def __init__(
        self,
        document_type: type[Any],
        namespace: str,
        on_invalid: OnInvalid,
        *,
        allow_dollar_fields: bool = False,
    ) -> None:
        #: Store ``$``-prefixed and dotted field names as they are (MongoDB 5.0+).
        self.allow_dollar_fields = flag(allow_dollar_fields, "allow_dollar_fields")
        #: ``check_update(update)``: refuse an update document (not a pipeline) whose
        #: stored values break the field-name rule (:func:`check_update_values`);
        #: with ``allow_dollar_fields`` there is no such rule.
        self.check_update: Callable[[Mapping[str, Any]], None] = (
            _no_rule if self.allow_dollar_fields else check_update_values
        )
        if on_invalid not in _ON_INVALID:
            raise ConfigurationError(
                f"on_invalid must be 'raise', 'skip' or 'raw', not {on_invalid!r}"
            )
        self.namespace = namespace
        self.on_invalid = on_invalid
        #: How many stored documents reads have skipped (``on_invalid="skip"``).
        self.skipped = 0
        codec = codec_for(document_type)
        #: None for dict and TypedDict documents: they cross the wire untouched.
        self.decode: Decoder | None = None if codec is None else self.decoder(codec)
        self.encode: Callable[[Any], dict[str, Any]] | None = (
            None if codec is None else codec.encode
        )

    def decoder(self, codec: DocumentCodec[Any]) -> Decoder:
        """The function that decodes stored documents with ``codec``."""
        namespace = self.namespace
        on_invalid = self.on_invalid
        type_name = codec.document_type.__name__

        def decode(raw: Any) -> Any:
            try:
                return codec.decode(raw)
            except DecodeFailure as failure:
                if on_invalid == "raw":
                    return raw
                if on_invalid == "skip":
                    self.skipped += 1
                    _log.warning(
                        "skipped the document with _id %r in %s: field %s %s",
                        raw.get("_id"),
                        namespace,
                        failure.field,
                        failure.reason,
                        extra={
                            "mongocat": {
                                "event": "document.skipped",
                                "namespace": namespace,
                                "field": failure.field,
                            }
                        },
                    )
                    return SKIP
                raise DocumentDecodeError(
                    namespace,
                    raw.get("_id"),
                    failure.field,
                    failure.reason,
                    document_type=type_name,
                ) from failure

        return decode

    def decoder_for(self, document_type: type[Any]) -> Decoder | None:
        """The decoder of another type's rows (an aggregation's ``output=``), or None."""
        codec = codec_for(document_type)
        return None if codec is None else self.decoder(codec)

    def read_as(self, projection: Any) -> tuple[Decoder | None, Any]:
        """The decoder and projection to send for ``projection``.

        A dataclass or model type becomes the projection of its fields, and results
        are decoded into it; anything else keeps the collection's own decoder.
        """
        if projection is None or not is_model_type(projection):
            return self.decode, projection
        codec = cast("DocumentCodec[Any]", codec_for(projection))
        return self.decoder(codec), codec.projection()

    def decode_one(self, raw: Any, decode: Decoder | None = None) -> Any:
        """Decode one document (None stays None; a skipped one becomes None)."""
        decode = decode or self.decode
        if raw is None or decode is None:
            return raw
        value = decode(raw)
        return None if value is SKIP else value

    def decode_all(self, raw: list[Any]) -> list[Any]:
        """Decode a list of stored documents, leaving out the skipped ones."""
        if self.decode is None:
            return raw
        return decode_rows(self.decode, raw)[0]

    def unchecked(self, document: Any) -> Any:
        """The document to store for ``document``, encoded if its type needs it, unchecked.

        For a caller that checks it itself (the bulk writer encodes and checks at once).
        """
        return document if self.encode is None else self.encode(document)

    def stored(self, document: Any, *, replacement: bool = False) -> Any:
        """The document to store for ``document``: encoded if its type needs it, checked.

        A replacement is checked for update operators first, for the clearer message.
        """
        raw = document if self.encode is None else self.encode(document)
        strict = not self.allow_dollar_fields
        # The common case, a flat document of names seen before: one call. A name the
        # strict rule passes never starts with "$", so it is no update operator either.
        if (strict or not replacement) and flat_with_valid_names((raw,), strict):
            return raw
        if replacement:
            as_replacement(raw)
        walk_document(raw, strict)
        return raw

    def stored_many(self, documents: Iterable[Any]) -> list[Any]:
        """The documents to store for ``documents``, each encoded and checked."""
        if isinstance(documents, str | bytes | Mapping) or not isinstance(documents, Iterable):
            raise InvalidDocument(
                f"insert_many() takes an iterable of documents (a list of dicts), not "
                f"{type(documents).__name__}; for one document use insert_one()"
            )
        batch = documents if isinstance(documents, list) else list(documents)
        if self.encode is not None:
            batch = [self.encode(document) for document in batch]
        check_documents(batch, allow_dollar_fields=self.allow_dollar_fields)
        return batch
