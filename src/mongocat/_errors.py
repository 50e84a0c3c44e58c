"""Errors raised by mongocat.

Every error derives from :class:`~mongocat.MongocatError`, keeps the driver's exception as
``.driver_error`` and its error labels as ``.error_labels``, and says what to do
next. The tree::

    MongocatError
    ├── ConfigurationError        bad arguments: URI, driver name, options
    ├── CatalogueClosed           a Catalogue used after close()
    ├── InvalidQuery              a filter, update or option that cannot be sent
    ├── InvalidDocument           a document that cannot be encoded to BSON
    ├── InvalidPageToken          a page token that is forged, truncated or for another query
    ├── DocumentNotFound          a document that must exist does not
    ├── IndexConflict             an index exists with other keys or options
    ├── TransactionError          a transaction or session used the wrong way
    ├── TransactionFailed         run_transaction gave up at its deadline
    ├── UnacknowledgedWrite       counts read from a w=0 write
    ├── ServerUnavailable         no server could be selected in time
    ├── NetworkError              a connection failed during an operation
    └── OperationFailed           the server refused an operation (has .code)
        ├── DuplicateKeyError     a unique index already holds the key
        ├── ExecutionTimeout      the operation exceeded max_time_ms
        ├── ServerFeatureUnavailable  the server lacks the feature
        └── BulkWriteFailed       some operations of a batch failed (.result)
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._results import BulkWriteSummary

__all__ = [
    "BulkWriteFailed",
    "CatalogueClosed",
    "ConfigurationError",
    "DocumentNotFound",
    "DuplicateKeyError",
    "ExecutionTimeout",
    "IndexConflict",
    "InvalidDocument",
    "InvalidPageToken",
    "InvalidQuery",
    "MongocatError",
    "NetworkError",
    "OperationFailed",
    "ServerFeatureUnavailable",
    "ServerUnavailable",
    "TransactionError",
    "TransactionFailed",
    "UnacknowledgedWrite",
]


class MongocatError(Exception):
    """The root of every error mongocat raises.

    Attributes:
        message: What happened and what to do about it.
        driver_error: The driver's exception this error was made from, if any.
        error_labels: The server's or driver's error labels, such as
            ``"TransientTransactionError"``.
    """

    def __init__(
        self,
        message: str,
        *,
        driver_error: BaseException | None = None,
        error_labels: Iterable[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.driver_error = driver_error
        self.error_labels: frozenset[str] = frozenset(error_labels)

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
    """Declared indexes exist on the server with other keys or options.

    Attributes:
        conflicts: Each conflicting index: the declared spec, the server's index,
            and what differs.
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


class ServerUnavailable(MongocatError):
    """No suitable server answered within ``serverSelectionTimeoutMS``."""


class NetworkError(MongocatError):
    """The connection to the server failed or timed out during an operation."""


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
        super().__init__(message, driver_error=driver_error, error_labels=error_labels)
        self.code = code
        self.code_name = code_name
        self.details: Mapping[str, Any] = details if details is not None else {}


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


class ExecutionTimeout(OperationFailed):
    """The operation ran longer than its ``max_time_ms`` and the server stopped it."""


class ServerFeatureUnavailable(OperationFailed):
    """The server does not support what was asked (a command, index type or option)."""


class BulkWriteFailed(OperationFailed):
    """Some operations of a multi-document write failed.

    Attributes:
        result: What was applied and what failed, with each error keyed by the
            failed operation's index in what the caller gave.
    """

    def __init__(
        self,
        message: str,
        *,
        result: "BulkWriteSummary",
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
