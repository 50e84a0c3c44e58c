"""The driver seam: the one module that knows Motor and PyMongo's async API.

Everything else in mongocat talks to the driver objects through the calls both
drivers share (Motor mirrors PyMongo's API) and, where they differ, through a
:class:`DriverSeam`: one small object per driver (:data:`PYMONGO`, :data:`MOTOR`)
that creates and closes clients, starts sessions and transactions, and opens
aggregation cursors and change streams. The database handle holds the seam of its
client. Both drivers raise ``pymongo.errors`` types (Motor wraps PyMongo), so one
:func:`translate_error` serves both; only the handle calls it.

Motor is imported lazily, so an application on PyMongo's async API never pays for
importing it.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol, get_args
from urllib.parse import unquote

import bson.errors
import pymongo.errors

try:
    from pymongo.client_session_shared import TransactionOptions
except ImportError:  # older pymongo defines it per API
    from pymongo.asynchronous.client_session import (  # type: ignore[attr-defined]
        TransactionOptions,
    )

from ._bulk_shared import summarize_reply
from ._errors import (
    AuthenticationFailed,
    BulkWriteFailed,
    ClientTimeout,
    ConfigurationError,
    DocumentValidationFailed,
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
from ._summaries import BulkWriteSummary
from ._types import DriverName

__all__ = [
    "DRIVER_ERRORS",
    "DRIVER_NAMES",
    "MOTOR",
    "PYMONGO",
    "DriverSeam",
    "TransactionOptions",
    "create_client",
    "redact",
    "redact_uri",
    "seam_for",
    "seam_of",
    "translate_error",
    "uri_secrets",
]

#: The driver names, in the order error messages list them.
DRIVER_NAMES: Final[tuple[DriverName, ...]] = get_args(DriverName)

#: What the drivers raise; the handle turns them into mongocat errors.
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
_MAX_TIME_MS_EXPIRED: Final = 50
_DOCUMENT_VALIDATION_FAILURE: Final = 121

_USERINFO = re.compile(r"^(?P<scheme>[a-z+]+://)(?P<user>[^:@/]*)(?::(?P<password>[^@/]*))?@")


class DriverSeam(Protocol):
    """What differs between the drivers, as one object per driver."""

    @property
    def name(self) -> DriverName:
        """``"pymongo"`` or ``"motor"``."""
        ...

    def new_client(self, uri: str, options: Mapping[str, Any]) -> Any:
        """Create a client; no I/O happens until first use."""
        ...

    async def close_client(self, client: Any) -> None:
        """Close a client."""
        ...

    def discard_client(self, client: Any) -> None:
        """Release a client that was never used, without a running event loop."""
        ...

    async def start_session(self, client: Any, options: Mapping[str, Any]) -> Any:
        """Start a client session."""
        ...

    async def start_transaction(self, session: Any, options: Mapping[str, Any]) -> None:
        """Start a transaction on ``session``."""
        ...

    async def aggregate(
        self, collection: Any, pipeline: list[dict[str, Any]], options: Mapping[str, Any]
    ) -> Any:
        """Open an aggregation cursor."""
        ...

    async def open_change_stream(self, target: Any, options: Mapping[str, Any]) -> Any:
        """Open a change stream on a collection or database; its aggregate has run on return."""
        ...


class _PyMongoSeam:
    """PyMongo's native async API (``pymongo.AsyncMongoClient``): coroutines throughout."""

    __slots__ = ()

    @property
    def name(self) -> DriverName:
        return "pymongo"

    def new_client(self, uri: str, options: Mapping[str, Any]) -> Any:
        from pymongo import AsyncMongoClient

        return AsyncMongoClient(uri, **options)

    async def close_client(self, client: Any) -> None:
        await client.close()

    def discard_client(self, client: Any) -> None:
        # A client that never connected holds no sockets, and closing it needs a
        # running loop, which creating one does not require.
        return None

    async def start_session(self, client: Any, options: Mapping[str, Any]) -> Any:
        return client.start_session(**options)

    async def start_transaction(self, session: Any, options: Mapping[str, Any]) -> None:
        await session.start_transaction(**options)

    async def aggregate(
        self, collection: Any, pipeline: list[dict[str, Any]], options: Mapping[str, Any]
    ) -> Any:
        return await collection.aggregate(pipeline, **options)

    async def open_change_stream(self, target: Any, options: Mapping[str, Any]) -> Any:
        return await target.watch(**options)


class _MotorSeam:
    """Motor (``motor.motor_asyncio``): PyMongo's sync API run on threads."""

    __slots__ = ()

    @property
    def name(self) -> DriverName:
        return "motor"

    def new_client(self, uri: str, options: Mapping[str, Any]) -> Any:
        from motor.motor_asyncio import AsyncIOMotorClient

        return AsyncIOMotorClient(uri, **options)

    async def close_client(self, client: Any) -> None:
        client.close()  # synchronous in Motor

    def discard_client(self, client: Any) -> None:
        client.close()

    async def start_session(self, client: Any, options: Mapping[str, Any]) -> Any:
        return await client.start_session(**options)

    async def start_transaction(self, session: Any, options: Mapping[str, Any]) -> None:
        session.start_transaction(**options)  # not awaited in Motor

    async def aggregate(
        self, collection: Any, pipeline: list[dict[str, Any]], options: Mapping[str, Any]
    ) -> Any:
        return collection.aggregate(pipeline, **options)  # opens lazily

    async def open_change_stream(self, target: Any, options: Mapping[str, Any]) -> Any:
        # Motor's stream opens lazily: enter it here, so that the aggregate has run
        # (on Motor's executor) when this returns.
        stream = target.watch(**options)
        await stream.__aenter__()
        return stream


#: The seam of PyMongo's async API, the default driver.
PYMONGO: Final[DriverSeam] = _PyMongoSeam()
#: The seam of Motor (end of life upstream; fully supported).
MOTOR: Final[DriverSeam] = _MotorSeam()

_SEAMS: Final[dict[str, DriverSeam]] = {"pymongo": PYMONGO, "motor": MOTOR}


def seam_for(driver: str) -> DriverSeam:
    """Return the seam of the driver named ``driver``, else explain the choices."""
    seam = _SEAMS.get(driver) if isinstance(driver, str) else None
    if seam is None:
        choices = " or ".join(repr(name) for name in DRIVER_NAMES)
        raise ConfigurationError(f"unknown driver {driver!r}; use driver={choices}")
    return seam


def create_client(uri: str, driver: str, options: Mapping[str, Any]) -> Any:
    """Create the driver's client for ``uri``; no I/O happens until first use.

    Raises:
        ConfigurationError: ``driver`` is unknown, or the URI or an option is invalid.
    """
    seam = seam_for(driver)
    try:
        return seam.new_client(uri, options)
    except (*DRIVER_ERRORS, ValueError, TypeError, OSError) as exc:
        secrets = uri_secrets(uri, options)
        # Neither chained nor kept: the driver's text may quote a credential.
        error = ConfigurationError(
            f"cannot create a {seam.name} client for {redact(redact_uri(uri), secrets)!r}: "
            f"{redact(str(exc), secrets)}; check the URI and the client options"
        )
    raise error


def seam_of(client: object) -> DriverSeam:
    """Return the seam of the driver that made ``client``, without importing Motor.

    Raises:
        ConfigurationError: ``client`` is neither driver's async client.
    """
    from pymongo import AsyncMongoClient

    if isinstance(client, AsyncMongoClient):
        return PYMONGO
    module = type(client).__module__
    if module.startswith("motor.") and type(client).__name__ == "AsyncIOMotorClient":
        return MOTOR
    raise ConfigurationError(
        f"cannot use a {type(client).__module__}.{type(client).__qualname__}: pass a "
        "motor.motor_asyncio.AsyncIOMotorClient or a pymongo.AsyncMongoClient, or use "
        "Catalogue.connect(uri) to create one"
    )


#: URI options whose values are credentials (compared in lower case).
_SECRET_URI_OPTIONS: Final = frozenset(
    {
        "authmechanismproperties",
        "tlscertificatekeyfilepassword",
        "sslpemkeypassword",
        "sslclientcertificatekeypassword",
        "proxypassword",
    }
)
#: Client options whose values (or, for mappings and objects, every string inside)
#: are credentials.
_SECRET_CLIENT_OPTIONS: Final = frozenset(
    {
        *_SECRET_URI_OPTIONS,
        "password",
        "auto_encryption_opts",
        "kms_providers",
        "kms_tls_options",
    }
)
_QUERY_SPLIT = re.compile(r"[&;]")


def _uri_options(uri: str) -> list[tuple[str, str]]:
    """The ``key=value`` pairs of ``uri``'s query, as written."""
    query = uri.partition("?")[2]
    return [(k, v) for k, _, v in (p.partition("=") for p in _QUERY_SPLIT.split(query)) if k]


def _strings_in(value: Any, depth: int = 0) -> set[str]:
    """Every string inside ``value`` (mappings, sequences, an object's attributes)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, bytes | bytearray):
        return {repr(bytes(value))[2:-1]} if value else set()
    if depth > 6 or value is None or isinstance(value, bool | int | float):
        return set()
    if isinstance(value, Mapping):
        return set().union(*(_strings_in(v, depth + 1) for v in value.values()))
    if isinstance(value, list | tuple | set | frozenset):
        return set().union(*(_strings_in(v, depth + 1) for v in value))
    attributes = getattr(value, "__dict__", None)  # AutoEncryptionOpts keeps its options
    return _strings_in(attributes, depth + 1) if isinstance(attributes, dict) else set()


def uri_secrets(uri: str, options: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The credentials in ``uri`` and client ``options``, to keep out of every message.

    That is the URI's password, the values of ``authMechanismProperties`` (such as an
    ``AWS_SESSION_TOKEN``), ``tlsCertificateKeyFilePassword``, ``proxyPassword``, and,
    among client options, ``password`` and every string of the auto-encryption and
    KMS options. Each is given as written and percent-decoded.
    """
    found: set[str] = set()
    match = _USERINFO.match(uri)
    if match is not None and match["password"]:
        found.add(match["password"])
    for key, value in _uri_options(uri):
        if key.lower() not in _SECRET_URI_OPTIONS or not value:
            continue
        found.add(value)
        if key.lower() == "authmechanismproperties":
            for pair in unquote(value).split(","):
                found.add(pair.partition(":")[2])
    for key, value in (options or {}).items():
        if key.lower() in _SECRET_CLIENT_OPTIONS:
            if key.lower() == "authmechanismproperties" and isinstance(value, str):
                found.update(pair.partition(":")[2] for pair in value.split(","))
            found.update(_strings_in(value))
    decoded = {unquote(secret) for secret in found}
    # Longest first, so that a secret containing another is replaced whole.
    return tuple(sorted((s for s in found | decoded if s), key=len, reverse=True))


def redact_uri(uri: str) -> str:
    """Return ``uri`` with its password and credential options replaced by ``***``."""
    match = _USERINFO.match(uri)
    if match is not None and match["password"] is not None:
        uri = f"{match['scheme']}{match['user']}:***@{uri[match.end() :]}"
    base, mark, query = uri.partition("?")
    if not mark:
        return uri
    parts = []
    for part in _QUERY_SPLIT.split(query):
        key, equals, value = part.partition("=")
        if key.lower() in _SECRET_URI_OPTIONS and value:
            part = f"{key}{equals}***"
        parts.append(part)
    return f"{base}?{'&'.join(parts)}"


def redact(text: str, secrets: Iterable[str]) -> str:
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
    exc: pymongo.errors.DuplicateKeyError,
    message: str,
    details: Mapping[str, Any],
    secrets: Iterable[str] = (),
) -> DuplicateKeyError:
    """Build a DuplicateKeyError naming the index and the key, parsed from the server."""
    parsed = _DUP_KEY_MESSAGE.search(details.get("errmsg", message))
    index_name = parsed["index"] if parsed else None
    key_pattern = details.get("keyPattern")
    key_value = details.get("keyValue")
    shown_key = repr(dict(key_value)) if key_value is not None else (parsed and parsed["key"])
    where = f" of {parsed['ns']!r}" if parsed else ""
    server_text = redact(str(details.get("errmsg", message)), secrets)
    return DuplicateKeyError(
        f"duplicate key {shown_key or '(unknown)'} in unique index {index_name or '(unknown)'!r}"
        f"{where}: a document with this key already exists; update that document "
        "(update_one with upsert=True inserts-or-updates) or use another key"
        f"\nserver: {server_text}",
        index_name=index_name,
        key_pattern=key_pattern,
        key_value=key_value,
        code=exc.code,
        details=details,
        driver_error=exc,
        error_labels=_labels(exc, details),
    )


def _first_line(text: str, limit: int = 120) -> str:
    """The start of a driver's message, short enough for the first line of ours."""
    line = text.split("\n", 1)[0].split(", Timeout:", 1)[0].split(", Topology", 1)[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def translate_error(
    exc: BaseException, secrets: Iterable[str] = (), *, read: bool = False
) -> MongocatError:
    """Turn a driver exception into the matching :class:`MongocatError`.

    The result keeps the driver's exception and error labels; ``secrets`` (such as a
    password) never appear in its message. ``read`` says the operation only read, for
    the advice on a network error.
    """
    message = redact(str(exc), secrets)
    if isinstance(exc, pymongo.errors.DuplicateKeyError):
        return _duplicate_key(exc, message, exc.details or {}, secrets)
    if isinstance(exc, pymongo.errors.BulkWriteError):
        summary: BulkWriteSummary = summarize_reply(exc.details)
        failed = ", ".join(
            f"#{error.index}: {redact(error.message, secrets)}" for error in summary.errors
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
        certificate = (
            "CERTIFICATE_VERIFY_FAILED" in message or "certificate verify failed" in message
        )
        hint = (
            "the server's TLS certificate is not trusted: give the CA that signed it "
            "with tlsCAFile, and check the host name"
            if certificate
            else "check that the server is running and reachable, or raise serverSelectionTimeoutMS"
        )
        # The driver's text is mostly its topology description: kept on .details.
        return ServerUnavailable(
            f"no MongoDB server answered in time; {hint} (the driver's report: .details)",
            details={"topology": message},
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
        labels = _labels(exc, {})
        if read:
            advice = "the read changed nothing: retry it (retryable reads already did, once)"
        elif "RetryableWriteError" in labels:
            advice = (
                "the driver already retried it once (retryable writes): the write may or "
                "may not have been applied, so check before repeating it"
            )
        else:
            advice = (
                "the write may or may not have been applied: repeat it only if it is "
                "idempotent (with retryable writes on, the drivers' default, a single "
                "write is resent once by the driver itself)"
            )
        return NetworkError(
            f"the connection failed during the operation ({_first_line(message)}); {advice}",
            details={"driver_message": message},
            driver_error=exc,
            error_labels=labels,
        )
    if isinstance(exc, pymongo.errors.OperationFailure):
        # The driver's text appends ", full error: {...}" (the whole reply, $clusterTime
        # signature included); the reply stays on .details, the message keeps the point.
        errmsg = (exc.details or {}).get("errmsg")
        if isinstance(errmsg, str) and errmsg:
            message = redact(errmsg, secrets)
    if isinstance(exc, pymongo.errors.WriteConcernError) and exc.code == _MAX_TIME_MS_EXPIRED:
        # The CSOT specification: a write-concern error MaxTimeMSExpired is a timeout.
        return ClientTimeout(
            f"the write was applied but its write concern was not satisfied in time "
            f"({message}); it may still be: check before repeating it, or raise wtimeout "
            "/ the operation's deadline",
            details=exc.details or {},
            driver_error=exc,
            error_labels=_labels(exc, exc.details or {}),
        )
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
        elif exc.code == _DOCUMENT_VALIDATION_FAILURE:
            cls, hint = (
                DocumentValidationFailed,
                "the document does not satisfy the collection's validator: .err_info "
                "says which rule failed",
            )
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
