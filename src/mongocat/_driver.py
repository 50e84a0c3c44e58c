"""The driver seam: the one module that knows Motor and PyMongo's async API.

Everything else in mongocat talks to the driver objects through the calls both
drivers share (Motor mirrors PyMongo's API) and through the functions here where
they differ: creating and closing clients, starting sessions, and turning the
drivers' exceptions into mongocat's. Both drivers raise ``pymongo.errors`` types
(Motor wraps PyMongo), so one translation serves both.

Motor is imported lazily, so an application on PyMongo's async API never pays for
importing it.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, get_args
from urllib.parse import unquote

import bson.errors
import pymongo.errors

from ._errors import (
    AuthenticationFailed,
    BulkWriteFailed,
    ClientTimeout,
    ConfigurationError,
    DuplicateKeyError,
    ExecutionTimeout,
    InvalidDocument,
    InvalidQuery,
    MongocatError,
    NetworkError,
    OperationFailed,
    PoolExhausted,
    ServerFeatureUnavailable,
    ServerUnavailable,
)
from ._results import BulkOperationError, BulkWriteSummary
from ._types import DriverName

__all__ = [
    "DRIVER_ERRORS",
    "DRIVER_NAMES",
    "aggregate",
    "close_client",
    "create_client",
    "detect_driver",
    "open_change_stream",
    "redact_uri",
    "start_session",
    "start_transaction",
    "translate_error",
    "uri_secrets",
]

#: The driver names, in the order error messages list them.
DRIVER_NAMES: Final[tuple[DriverName, ...]] = get_args(DriverName)

#: What the drivers raise; ``except DRIVER_ERRORS`` then :func:`translate_error`.
#: (BSON encoding raises UnicodeEncodeError for a string holding a lone surrogate, and
#: OverflowError for an int beyond 64 bits.)
DRIVER_ERRORS: Final = (
    pymongo.errors.PyMongoError,
    bson.errors.BSONError,
    UnicodeEncodeError,
    OverflowError,
)

# Server error codes meaning "this server cannot do that": CommandNotFound,
# IllegalOperation is deliberately absent (it also means misuse), CommandNotSupported,
# NotImplemented, and the Stable API's APIStrictError.
_FEATURE_CODES: Final = frozenset({59, 115, 238, 323})

_USERINFO = re.compile(r"^(?P<scheme>[a-z+]+://)(?P<user>[^:@/]*)(?::(?P<password>[^@/]*))?@")


def _validate_driver(driver: str) -> DriverName:
    """Return ``driver`` if it names a supported driver, else explain the choices."""
    if driver not in DRIVER_NAMES:
        choices = " or ".join(repr(name) for name in DRIVER_NAMES)
        raise ConfigurationError(f"unknown driver {driver!r}; use driver={choices}")
    return driver


def create_client(uri: str, driver: str, options: Mapping[str, Any]) -> Any:
    """Create the driver's client for ``uri``; no I/O happens until first use.

    Raises:
        ConfigurationError: ``driver`` is unknown, or the URI or an option is invalid.
    """
    name = _validate_driver(driver)
    try:
        if name == "motor":
            from motor.motor_asyncio import AsyncIOMotorClient

            return AsyncIOMotorClient(uri, **options)
        from pymongo import AsyncMongoClient

        return AsyncMongoClient(uri, **options)
    except (*DRIVER_ERRORS, ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"cannot create a {name} client for {redact_uri(uri)!r}: "
            f"{_redact(str(exc), uri_secrets(uri))}; check the URI and the client options",
            driver_error=exc,
        ) from exc


def detect_driver(client: object) -> DriverName:
    """Return which driver made ``client``, without importing Motor.

    Raises:
        ConfigurationError: ``client`` is neither driver's async client.
    """
    from pymongo import AsyncMongoClient

    if isinstance(client, AsyncMongoClient):
        return "pymongo"
    module = type(client).__module__
    if module.startswith("motor.") and type(client).__name__ == "AsyncIOMotorClient":
        return "motor"
    raise ConfigurationError(
        f"cannot use a {type(client).__module__}.{type(client).__qualname__}: pass a "
        "motor.motor_asyncio.AsyncIOMotorClient or a pymongo.AsyncMongoClient, or use "
        "Catalogue.connect(uri) to create one"
    )


async def close_client(client: Any, driver: DriverName) -> None:
    """Close a client: Motor's close() is synchronous, PyMongo's is a coroutine."""
    if driver == "motor":
        client.close()
    else:
        await client.close()


async def start_session(client: Any, driver: DriverName, options: Mapping[str, Any]) -> Any:
    """Start a client session (Motor's start_session is awaited, PyMongo's is not)."""
    if driver == "motor":
        return await client.start_session(**options)
    return client.start_session(**options)


async def start_transaction(session: Any, driver: DriverName, options: Mapping[str, Any]) -> None:
    """Start a transaction on ``session``; only PyMongo's start_transaction is awaited."""
    if driver == "motor":
        session.start_transaction(**options)
    else:
        await session.start_transaction(**options)


async def aggregate(
    collection: Any, driver: DriverName, pipeline: list[dict[str, Any]], options: Mapping[str, Any]
) -> Any:
    """Open an aggregation cursor (PyMongo's is awaited, Motor's is not)."""
    if driver == "motor":
        return collection.aggregate(pipeline, **options)
    return await collection.aggregate(pipeline, **options)


async def open_change_stream(target: Any, driver: DriverName, options: Mapping[str, Any]) -> Any:
    """Open a change stream on a collection or database: its aggregate has run on return.

    PyMongo's ``watch`` is awaited; Motor's returns a stream that opens lazily, so it
    is entered here (Motor runs the aggregate on its executor).
    """
    if driver == "motor":
        stream = target.watch(**options)
        await stream.__aenter__()
        return stream
    return await target.watch(**options)


def uri_secrets(uri: str) -> tuple[str, ...]:
    """Return the password in ``uri`` as written and decoded, to keep out of messages."""
    match = _USERINFO.match(uri)
    if match is None or not match["password"]:
        return ()
    raw = match["password"]
    return tuple({raw, unquote(raw)})


def redact_uri(uri: str) -> str:
    """Return ``uri`` with its password replaced by ``***``."""
    match = _USERINFO.match(uri)
    if match is None or match["password"] is None:
        return uri
    return f"{match['scheme']}{match['user']}:***@{uri[match.end() :]}"


def _redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret in ``text`` by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _labels(exc: BaseException, details: Mapping[str, Any]) -> set[str]:
    """Collect the error labels the driver attached and those the server sent."""
    labels = set(getattr(exc, "_error_labels", ()))
    labels.update(details.get("errorLabels", ()))
    return labels


_DUP_KEY_MESSAGE = re.compile(
    r"collection: (?P<ns>\S+) index: (?P<index>\S+) dup key: (?P<key>.*)$"
)


def _duplicate_key(
    exc: pymongo.errors.DuplicateKeyError, message: str, details: Mapping[str, Any]
) -> DuplicateKeyError:
    """Build a DuplicateKeyError naming the index and the key, parsed from the server."""
    parsed = _DUP_KEY_MESSAGE.search(details.get("errmsg", message))
    index_name = parsed["index"] if parsed else None
    key_pattern = details.get("keyPattern")
    key_value = details.get("keyValue")
    shown_key = repr(dict(key_value)) if key_value is not None else (parsed and parsed["key"])
    where = f" of {parsed['ns']!r}" if parsed else ""
    return DuplicateKeyError(
        f"duplicate key {shown_key or '(unknown)'} in unique index {index_name or '(unknown)'!r}"
        f"{where}: a document with this key already exists; update that document "
        "(update_one with upsert=True inserts-or-updates) or use another key",
        index_name=index_name,
        key_pattern=key_pattern,
        key_value=key_value,
        code=exc.code,
        details=details,
        driver_error=exc,
        error_labels=_labels(exc, details),
    )


def _bulk_summary(details: Mapping[str, Any]) -> BulkWriteSummary:
    """Summarise a driver's bulk-write error document."""
    return BulkWriteSummary(
        inserted_count=details.get("nInserted", 0),
        matched_count=details.get("nMatched", 0),
        modified_count=details.get("nModified", 0),
        deleted_count=details.get("nRemoved", 0),
        upserted_count=details.get("nUpserted", 0),
        upserted_ids={up["index"]: up["_id"] for up in details.get("upserted", ())},
        errors=tuple(
            BulkOperationError(
                index=error["index"],
                code=error.get("code", 0),
                message=error.get("errmsg", ""),
                details=error,
            )
            for error in details.get("writeErrors", ())
        ),
    )


def translate_error(exc: BaseException, secrets: Iterable[str] = ()) -> MongocatError:
    """Turn a driver exception into the matching :class:`MongocatError`.

    The result keeps the driver's exception and error labels; ``secrets`` (such as a
    password) never appear in its message.
    """
    message = _redact(str(exc), secrets)
    if isinstance(exc, pymongo.errors.DuplicateKeyError):
        return _duplicate_key(exc, message, exc.details or {})
    if isinstance(exc, pymongo.errors.BulkWriteError):
        summary = _bulk_summary(exc.details)
        failed = ", ".join(
            f"#{error.index}: {_redact(error.message, secrets)}" for error in summary.errors
        )
        return BulkWriteFailed(
            f"{len(summary.errors)} operation(s) failed ({failed}); "
            f"{summary.inserted_count} inserted, {summary.modified_count} modified, "
            f"{summary.deleted_count} deleted before or around them; see .result for each",
            result=summary,
            details=exc.details,
            driver_error=exc,
            error_labels=_labels(exc, exc.details),
        )
    if isinstance(exc, pymongo.errors.ServerSelectionTimeoutError):
        hint = (
            "the server's TLS certificate is not trusted: give the CA that signed it "
            "with tlsCAFile, and check the host name"
            if "CERTIFICATE_VERIFY_FAILED" in message or "certificate verify failed" in message
            else "check that the server is running and reachable, or raise serverSelectionTimeoutMS"
        )
        return ServerUnavailable(
            f"no MongoDB server answered in time ({message}); {hint}",
            driver_error=exc,
            error_labels=_labels(exc, {}),
        )
    if isinstance(exc, pymongo.errors.WaitQueueTimeoutError):
        return PoolExhausted(
            f"no pooled connection came free in time ({message}); raise maxPoolSize or "
            "waitQueueTimeoutMS, or bound the number of concurrent operations",
            driver_error=exc,
            error_labels=_labels(exc, {}),
        )
    if isinstance(exc, pymongo.errors.ConnectionFailure) and exc.timeout:
        return ClientTimeout(
            f"the operation did not finish within the client's timeout ({message}); the "
            "server may still complete it: raise timeoutMS / socketTimeoutMS, or retry "
            "only if it is idempotent",
            driver_error=exc,
            error_labels=_labels(exc, {}),
        )
    if isinstance(exc, pymongo.errors.ConnectionFailure):
        return NetworkError(
            f"the connection failed during the operation ({message}); it may have been "
            "applied or not: retry it only if it is idempotent, or use retryable writes",
            driver_error=exc,
            error_labels=_labels(exc, {}),
        )
    if isinstance(exc, pymongo.errors.OperationFailure):
        # The driver's text appends ", full error: {...}" (the whole reply, $clusterTime
        # signature included); the reply stays on .details, the message keeps the point.
        errmsg = (exc.details or {}).get("errmsg")
        if isinstance(errmsg, str) and errmsg:
            message = _redact(errmsg, secrets)
    if isinstance(exc, pymongo.errors.OperationFailure) and exc.code == 10334:
        return InvalidDocument(
            f"the server refused a document over its 16 MiB limit ({message}); nothing "
            "of it was stored: keep large content in GridFS (cat.gridfs())",
            driver_error=exc,
        )
    if isinstance(exc, pymongo.errors.OperationFailure):
        details = exc.details or {}
        cls: type[OperationFailed] = OperationFailed
        hint = "see the server's message"
        if isinstance(exc, pymongo.errors.ExecutionTimeout):
            cls, hint = ExecutionTimeout, "narrow the query, add an index, or raise max_time_ms"
        elif exc.code == 18:
            cls, hint = (
                AuthenticationFailed,
                "check the user name, the password, authSource (the database the user "
                "was created in) and authMechanism",
            )
        elif exc.code in _FEATURE_CODES:
            cls, hint = ServerFeatureUnavailable, "this server does not support it"
        return cls(
            f"{message} (code {exc.code}); {hint}",
            code=exc.code,
            code_name=details.get("codeName"),
            details=details,
            driver_error=exc,
            error_labels=_labels(exc, details),
        )
    if isinstance(exc, pymongo.errors.ConfigurationError | pymongo.errors.InvalidName):
        return ConfigurationError(message, driver_error=exc)
    if isinstance(exc, pymongo.errors.DocumentTooLarge):
        return InvalidDocument(
            f"the document is too large to store ({message}); a document holds at most "
            "16 MiB of BSON: store large content with GridFS (cat.gridfs())",
            driver_error=exc,
        )
    if isinstance(exc, bson.errors.InvalidDocument):
        return InvalidDocument(
            f"cannot encode the document to BSON: {message}; convert the value to a "
            "BSON type (str, int, float, datetime, ObjectId, Decimal128, ...)",
            driver_error=exc,
        )
    if isinstance(exc, bson.errors.BSONError):
        return InvalidQuery(message, driver_error=exc)
    if isinstance(exc, OverflowError):
        return InvalidDocument(
            f"cannot encode an int to BSON ({message}): BSON integers hold at most 64 bits "
            "(-2**63 to 2**63 - 1); store a larger number as a Decimal128 or a string",
            driver_error=exc,
        )
    if isinstance(exc, UnicodeEncodeError):
        return InvalidDocument(
            f"cannot encode a string to BSON ({message}): it holds a lone UTF-16 surrogate, "
            "which UTF-8 cannot represent; clean the text (e.g. "
            "text.encode('utf-8', 'replace').decode())",
            driver_error=exc,
        )
    return MongocatError(message, driver_error=exc, error_labels=_labels(exc, {}))
