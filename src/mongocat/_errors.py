"""Errors raised by mongocat.

Every error derives from :class:`~mongocat.MongocatError`, keeps the driver's exception as
``.driver_error`` and its error labels as ``.error_labels``, and says what to do
next. The tree::

    MongocatError
    ├── ConfigurationError        bad arguments: URI, driver name, options
    ├── CatalogueClosed           a Catalogue used after close()
    ├── InvalidQuery              a filter, update or option that cannot be sent
    ├── InvalidDocument           a document that cannot be encoded to BSON
    ├── DocumentDecodeError       a stored document that does not fit the document type
    ├── InvalidPageToken          a page token that is forged, truncated or for another query
    ├── DocumentNotFound          a document that must exist does not
    │   └── FileNotFound          a GridFS file that must exist does not (also a GridFSError)
    ├── IndexConflict             an index or collection exists with other options
    ├── TransactionError          a transaction or session used the wrong way
    ├── TransactionFailed         run_transaction gave up at its deadline
    │   └── TransactionTimeout    ... its timeout= / scope deadline (also a ClientTimeout)
    ├── UnacknowledgedWrite       counts read from a w=0 write
    ├── ChangeStreamError         a change stream misused or unable to continue
    │   ├── ChangeStreamHistoryLost   its resume point has left the oplog
    │   └── ChangeStreamInvalidated   its collection was dropped or renamed
    ├── GridFSError               a GridFS upload or read that cannot proceed
    │   ├── GridFSIntegrityError  stored chunks that do not add up to what was written
    │   └── InvalidRange          a byte range outside the file
    ├── ServerUnavailable         no server could be selected in time
    ├── NetworkError              a connection failed during an operation
    │   └── ClientTimeout         the client's own timeout passed (timeoutMS, socketTimeoutMS)
    │       └── PoolExhausted     no connection came free within waitQueueTimeoutMS
    └── OperationFailed           the server refused an operation (has .code)
        ├── AuthenticationFailed  wrong user name, password, mechanism or authSource
        ├── DuplicateKeyError     a unique index already holds the key
        ├── DocumentValidationFailed  the collection's validator refused a document
        ├── ExecutionTimeout      the operation exceeded max_time_ms
        ├── ServerFeatureUnavailable  the server lacks the feature
        └── BulkWriteFailed       some operations of a batch failed (.result)
            └── BulkWriteTimeout  the writer's deadline passed (also a ClientTimeout)
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._summaries import BulkWriteSummary

__all__ = [
    "AuthenticationFailed",
    "BulkWriteFailed",
    "BulkWriteTimeout",
    "CatalogueClosed",
    "ChangeStreamError",
    "ChangeStreamHistoryLost",
    "ChangeStreamInvalidated",
    "ClientTimeout",
    "ConfigurationError",
    "DocumentDecodeError",
    "DocumentNotFound",
    "DocumentValidationFailed",
    "DuplicateKeyError",
    "ExecutionTimeout",
    "FileNotFound",
    "GridFSError",
    "GridFSIntegrityError",
    "IndexConflict",
    "InvalidDocument",
    "InvalidPageToken",
    "InvalidQuery",
    "InvalidRange",
    "MongocatError",
    "NetworkError",
    "OperationFailed",
    "PoolExhausted",
    "ServerFeatureUnavailable",
    "ServerUnavailable",
    "TransactionError",
    "TransactionFailed",
    "TransactionTimeout",
    "UnacknowledgedWrite",
]


class MongocatError(Exception):
    """The root of every error mongocat raises.

    Attributes:
        message: What happened and what to do about it.
        driver_error: The driver's exception this error was made from, if any.
        error_labels: The server's or driver's error labels, such as
            ``"TransientTransactionError"``.
        details: More about the failure: the server's error document, or the driver's
            full report (such as its topology description) that the message leaves out.
    """

    def __init__(
        self,
        message: str,
        *,
        driver_error: BaseException | None = None,
        error_labels: Iterable[str] = (),
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.driver_error = driver_error
        self.error_labels: frozenset[str] = frozenset(error_labels)
        self.details: Mapping[str, Any] = details if details is not None else {}

    def has_error_label(self, label: str) -> bool:
        """Return whether the error carries ``label`` (e.g. ``"RetryableWriteError"``)."""
        return label in self.error_labels


class ConfigurationError(MongocatError):
    """An argument, URI or option is invalid; the message names the fix."""


class CatalogueClosed(MongocatError):
    """A :class:`~mongocat.Catalogue` (or one of its collections) was used after close()."""


class InvalidQuery(MongocatError):
    """A filter, update, projection or option that MongoDB would reject or misread."""


class InvalidPageToken(MongocatError):
    """A pagination token that was altered, truncated, or made for another query."""


class InvalidDocument(MongocatError):
    """A document that cannot be encoded to BSON (an unsupported value type, say)."""


class DocumentDecodeError(MongocatError):
    """A stored document does not fit the collection's dataclass or Pydantic model.

    Attributes:
        namespace: ``"database.collection"`` the document came from.
        document_id: The document's ``_id``, if it has one.
        field: The offending field's path (``"price"``, ``"items.0.qty"``), if known.
        reason: What is wrong with it (``"is missing"``).
    """

    def __init__(
        self,
        namespace: str,
        document_id: Any,
        field: str | None,
        reason: str,
        *,
        document_type: str,
    ) -> None:
        where = f"field {field!r} " if field else ""
        super().__init__(
            f"the document with _id {document_id!r} in {namespace!r} does not fit "
            f"{document_type}: {where}{reason}; fix the document, make the field optional, "
            "or read with on_invalid='skip' or 'raw'"
        )
        self.namespace = namespace
        self.document_id = document_id
        self.field = field
        self.reason = reason


class DocumentNotFound(MongocatError):
    """No document matched where one was required.

    Attributes:
        namespace: ``"database.collection"`` that was searched.
        filter: The filter that matched nothing.
    """

    def __init__(self, namespace: str, filter: Mapping[str, Any]) -> None:
        super().__init__(
            f"no document in {namespace!r} matches {dict(filter)!r}; "
            "use find_one() to get None instead of an error"
        )
        self.namespace = namespace
        self.filter = filter


class IndexConflict(MongocatError):
    """Declared indexes (or collections) exist on the server with other options.

    Attributes:
        conflicts: Each conflict: for an index, the declared spec, the server's
            index and what differs; from ``cat.ensure()``, each in words with its fix.
    """

    def __init__(self, message: str, *, conflicts: Sequence[Any]) -> None:
        super().__init__(message)
        self.conflicts = tuple(conflicts)


class TransactionError(MongocatError):
    """A transaction or session was misused: nested, or shared between tasks."""


class TransactionFailed(MongocatError):
    """``run_transaction`` stopped retrying: the deadline passed or attempts ran out.

    Attributes:
        attempts: How many times the function ran.
        last_error: The error of the last attempt.
    """

    def __init__(self, message: str, *, attempts: int, last_error: BaseException) -> None:
        labels = getattr(last_error, "error_labels", ())
        super().__init__(message, driver_error=last_error, error_labels=labels)
        self.attempts = attempts
        self.last_error = last_error


class UnacknowledgedWrite(MongocatError):
    """A count was read from the result of an unacknowledged (``w=0``) write."""


class ChangeStreamError(MongocatError):
    """A change stream was misused (iterated before opening) or cannot continue."""


class ChangeStreamHistoryLost(ChangeStreamError):
    """A change stream's resume point is no longer in the oplog (server code 286).

    Attributes:
        resume_token: The token the stream tried to resume after, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        resume_token: Mapping[str, Any] | None,
        driver_error: BaseException | None = None,
    ) -> None:
        labels = getattr(driver_error, "error_labels", ())
        super().__init__(message, driver_error=driver_error, error_labels=labels)
        self.resume_token = resume_token


class ChangeStreamInvalidated(ChangeStreamError):
    """The watched collection or database was dropped or renamed.

    Attributes:
        event: The ``invalidate`` event, as the server sent it.
    """

    def __init__(self, event: Mapping[str, Any]) -> None:
        super().__init__(
            "the change stream was invalidated: its collection or database was dropped "
            "or renamed; pass on_gap='restart' to keep watching the namespace"
        )
        self.event = event


class GridFSError(MongocatError):
    """A GridFS operation that cannot proceed: a bad source, range or stored file."""


class FileNotFound(DocumentNotFound, GridFSError):
    """No GridFS file has the requested id (or filename).

    Attributes:
        bucket: The GridFS bucket searched (``"fs"``).
        file_id: The id asked for, or None when a filename was.
        filename: The filename asked for, or None when an id was.
    """

    def __init__(self, bucket: str, *, file_id: Any = None, filename: str | None = None) -> None:
        wanted = f"filename {filename!r}" if filename is not None else f"_id {file_id!r}"
        MongocatError.__init__(
            self,
            f"no file with {wanted} in GridFS bucket {bucket!r}; use exists() or find() "
            "to check first",
        )
        self.namespace = f"{bucket}.files"
        self.filter: Mapping[str, Any] = (
            {"filename": filename} if filename is not None else {"_id": file_id}
        )
        self.bucket = bucket
        self.file_id = file_id
        self.filename = filename


class GridFSIntegrityError(GridFSError):
    """A stored file's chunks do not match its length or SHA-256: the data is damaged.

    Attributes:
        bucket: The GridFS bucket (``"fs"``).
        file_id: The damaged file's id.
    """

    def __init__(self, message: str, *, bucket: str, file_id: Any) -> None:
        super().__init__(
            f"GridFS file {file_id!r} in bucket {bucket!r} is damaged: {message}; restore it "
            "from a backup or upload it again"
        )
        self.bucket = bucket
        self.file_id = file_id


class InvalidRange(GridFSError):
    """A byte range that does not lie within the file (HTTP's 416).

    Attributes:
        start: The first byte asked for.
        end: The end asked for (exclusive), or None for "to the end".
        length: The file's length.
    """

    def __init__(self, start: Any, end: Any, length: int | None) -> None:
        size = f" of a {length}-byte file" if length is not None else ""
        super().__init__(
            f"byte range start={start!r} end={end!r} is not within the file{size}; give "
            "integers with 0 <= start <= length and start <= end (end is exclusive and "
            "capped at the length)"
        )
        self.start = start
        self.end = end
        self.length = length


class ServerUnavailable(MongocatError):
    """No suitable server answered within ``serverSelectionTimeoutMS``."""


class NetworkError(MongocatError):
    """The connection to the server failed or timed out during an operation."""


class ClientTimeout(NetworkError):
    """The operation ran past the client's timeout (``timeoutMS``, ``socketTimeoutMS``).

    The server may still complete it: retry only idempotent operations, or writes
    with retryable writes on. The connection is discarded and the pool replaces it.
    """


class PoolExhausted(ClientTimeout):
    """No pooled connection came free within ``waitQueueTimeoutMS``."""


class OperationFailed(MongocatError):
    """The server refused an operation.

    Attributes:
        code: The server's numeric error code, if it sent one.
        code_name: The server's name for the code (``"DuplicateKey"``), if sent.
        details: The server's full error document, if sent.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        code_name: str | None = None,
        details: Mapping[str, Any] | None = None,
        driver_error: BaseException | None = None,
        error_labels: Iterable[str] = (),
    ) -> None:
        super().__init__(
            message, driver_error=driver_error, error_labels=error_labels, details=details
        )
        self.code = code
        self.code_name = code_name


class AuthenticationFailed(OperationFailed):
    """The server refused the credentials; the message never contains the password."""


class DuplicateKeyError(OperationFailed):
    """A write would put a second document under the same key of a unique index.

    Attributes:
        index_name: The unique index that holds the key (``"sku_1"``), if known.
        key_pattern: The index's key pattern (``{"sku": 1}``), if known.
        key_value: The duplicate key (``{"sku": "W-1"}``), if known.
    """

    def __init__(
        self,
        message: str,
        *,
        index_name: str | None,
        key_pattern: Mapping[str, Any] | None,
        key_value: Mapping[str, Any] | None,
        code: int | None = 11000,
        details: Mapping[str, Any] | None = None,
        driver_error: BaseException | None = None,
        error_labels: Iterable[str] = (),
    ) -> None:
        super().__init__(
            message,
            code=code,
            code_name="DuplicateKey",
            details=details,
            driver_error=driver_error,
            error_labels=error_labels,
        )
        self.index_name = index_name
        self.key_pattern = key_pattern
        self.key_value = key_value


class DocumentValidationFailed(OperationFailed):
    """The collection's validator (``$jsonSchema`` or a query) refused a document."""

    @property
    def err_info(self) -> Mapping[str, Any] | None:
        """The server's ``errInfo``, saying which rule failed (MongoDB 5.0+), or None.

        For a ``$jsonSchema`` validator it names the failing keyword and property
        (``schemaRulesNotSatisfied``, ``propertiesNotSatisfied``, ...).
        """
        info = self.details.get("errInfo")
        return info if isinstance(info, Mapping) else None


class ExecutionTimeout(OperationFailed):
    """The operation ran longer than its ``max_time_ms`` and the server stopped it."""


class ServerFeatureUnavailable(OperationFailed):
    """The server does not support what was asked (a command, index type or option)."""


class BulkWriteFailed(OperationFailed):
    """Some operations of a multi-document write failed.

    Attributes:
        result: What was applied and what failed, with each error keyed by the
            failed operation's index in what the caller gave.
        unread_from: For ``bulk_insert``: the index of the first input document
            never read from the iterable (the write stopped before reaching it), or
            None when the whole input was read.
    """

    unread_from: int | None = None

    def __init__(
        self,
        message: str,
        *,
        result: BulkWriteSummary,
        details: Mapping[str, Any] | None = None,
        driver_error: BaseException | None = None,
        error_labels: Iterable[str] = (),
    ) -> None:
        super().__init__(
            message,
            code=65,
            code_name="MultipleErrorsOccurred",
            details=details,
            driver_error=driver_error,
            error_labels=error_labels,
        )
        self.result = result


class TransactionTimeout(TransactionFailed, ClientTimeout):
    """``run_transaction`` ran past its deadline (``timeout=`` or a ``cat.timeout()``).

    Both a :class:`TransactionFailed` (with ``attempts`` and ``last_error``) and a
    :class:`ClientTimeout`, so a handler of either catches it.
    """


class BulkWriteTimeout(BulkWriteFailed, ClientTimeout):
    """A bulk write ran past its deadline; ``.result`` says what was applied.

    Both a :class:`BulkWriteFailed` (what the writer sent before the deadline is in
    ``.result``; the batch in flight is in doubt) and a :class:`ClientTimeout`.
    """
