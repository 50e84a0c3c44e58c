"""mongocat: a typed asyncio library for MongoDB, on Motor or PyMongo's async API.

Example:
    >>> from mongocat import Catalogue
    >>> async with Catalogue.connect("mongodb://localhost/shop") as cat:  # doctest: +SKIP
    ...     await cat.collection("products").insert_one({"sku": "W-1", "price": 9.99})
"""

from typing import TypeVar

from . import acc, expr
from ._bulk import BulkWriter
from ._bulk_shared import BulkArgs
from ._catalogue import Catalogue
from ._change_events import (
    ChangeEvent,
    Checkpoint,
    FullDocument,
    MemoryCheckpoint,
    Namespace,
    OnGap,
    StreamGap,
    UpdateDescription,
    WatchArgs,
    WatchFilter,
)
from ._changes import ChangeStream, Consumer
from ._checkpoints import CollectionCheckpoint
from ._coercion import object_id
from ._collection import Collection
from ._collection_specs import (
    Capped,
    CollectionArgs,
    CollectionChange,
    CollectionSpec,
    TimeSeries,
)
from ._cursor import Cursor
from ._deadlines import Deadline
from ._errors import (
    AuthenticationFailed,
    BulkWriteFailed,
    BulkWriteTimeout,
    CatalogueClosed,
    ChangeStreamError,
    ChangeStreamHistoryLost,
    ChangeStreamInvalidated,
    ClientTimeout,
    ConfigurationError,
    DocumentDecodeError,
    DocumentNotFound,
    DocumentValidationFailed,
    DuplicateKeyError,
    ExecutionTimeout,
    FileNotFound,
    GridFSError,
    GridFSIntegrityError,
    IndexConflict,
    InvalidDocument,
    InvalidPageToken,
    InvalidQuery,
    InvalidRange,
    MongocatError,
    NetworkError,
    OperationFailed,
    PoolExhausted,
    ServerFeatureUnavailable,
    ServerUnavailable,
    TransactionError,
    TransactionFailed,
    TransactionTimeout,
    UnacknowledgedWrite,
)
from ._explain import ExplainSummary
from ._expressions import Expr
from ._filters import F, Field, Filter, GeoJSON
from ._gridfs import GridFS, GridFSReader
from ._gridfs_chunks import FileInfo, UploadSource
from ._index_manager import IndexDifference, IndexManager, IndexPlan
from ._indexes import Index, IndexInfo
from ._models import ModelFields, fields, where
from ._observe import AttributeValue, Instrumentation, Observation, ObservedCatalogue, Observer
from ._pagination import Page
from ._pipeline import Pipeline
from ._projection import Projection
from ._results import (
    BulkOperationError,
    BulkWriteSummary,
    DeleteResult,
    InsertManyResult,
    InsertOneResult,
    UpdateResult,
)
from ._schema import json_schema
from ._schema_plan import SchemaPlan
from ._search_indexes import SearchIndex, SearchIndexPlan, VectorSearchIndex
from ._sort import Sort
from ._transaction import Transaction
from ._types import (
    CollationLike,
    DocT,
    DriverName,
    FilterLike,
    HintLike,
    OnInvalid,
    ProjectionLike,
    ReturnDocument,
    SessionLike,
    SortLike,
    UpdateLike,
)
from ._update import Update
from ._version import __version__

__all__ = [
    "AttributeValue",
    "AuthenticationFailed",
    "BulkArgs",
    "BulkOperationError",
    "BulkWriteFailed",
    "BulkWriteSummary",
    "BulkWriteTimeout",
    "BulkWriter",
    "Capped",
    "Catalogue",
    "CatalogueClosed",
    "ChangeEvent",
    "ChangeStream",
    "ChangeStreamError",
    "ChangeStreamHistoryLost",
    "ChangeStreamInvalidated",
    "Checkpoint",
    "ClientTimeout",
    "CollationLike",
    "Collection",
    "CollectionArgs",
    "CollectionChange",
    "CollectionCheckpoint",
    "CollectionSpec",
    "ConfigurationError",
    "Consumer",
    "Cursor",
    "Deadline",
    "DeleteResult",
    "DocT",
    "DocumentDecodeError",
    "DocumentNotFound",
    "DocumentValidationFailed",
    "DriverName",
    "DuplicateKeyError",
    "ExecutionTimeout",
    "ExplainSummary",
    "Expr",
    "F",
    "Field",
    "FileInfo",
    "FileNotFound",
    "Filter",
    "FilterLike",
    "FullDocument",
    "GeoJSON",
    "GridFS",
    "GridFSError",
    "GridFSIntegrityError",
    "GridFSReader",
    "HintLike",
    "Index",
    "IndexConflict",
    "IndexDifference",
    "IndexInfo",
    "IndexManager",
    "IndexPlan",
    "InsertManyResult",
    "InsertOneResult",
    "Instrumentation",
    "InvalidDocument",
    "InvalidPageToken",
    "InvalidQuery",
    "InvalidRange",
    "MemoryCheckpoint",
    "ModelFields",
    "MongocatError",
    "Namespace",
    "NetworkError",
    "Observation",
    "ObservedCatalogue",
    "Observer",
    "OnGap",
    "OnInvalid",
    "OperationFailed",
    "Page",
    "Pipeline",
    "PoolExhausted",
    "Projection",
    "ProjectionLike",
    "ReturnDocument",
    "SchemaPlan",
    "SearchIndex",
    "SearchIndexPlan",
    "ServerFeatureUnavailable",
    "ServerUnavailable",
    "SessionLike",
    "Sort",
    "SortLike",
    "StreamGap",
    "TimeSeries",
    "Transaction",
    "TransactionError",
    "TransactionFailed",
    "TransactionTimeout",
    "UnacknowledgedWrite",
    "Update",
    "UpdateDescription",
    "UpdateLike",
    "UpdateResult",
    "UploadSource",
    "VectorSearchIndex",
    "WatchArgs",
    "WatchFilter",
    "__version__",
    "acc",
    "expr",
    "fields",
    "json_schema",
    "object_id",
    "where",
]

# Public classes report ``mongocat`` as their module, so that reprs, tracebacks and
# the API reference show the import path users write.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type | TypeVar) and _obj.__module__.startswith("mongocat."):
        _obj.__module__ = __name__
del _name, _obj
