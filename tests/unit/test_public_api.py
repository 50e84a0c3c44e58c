"""The public surface changes only on purpose: this list is the contract."""

import mongocat

EXPORTED = {
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
    "SearchIndex",
    "SearchIndexPlan",
    "ServerFeatureUnavailable",
    "ServerUnavailable",
    "SessionLike",
    "SchemaPlan",
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
}


def test_exported_names_are_exactly_the_contract() -> None:
    assert set(mongocat.__all__) == EXPORTED


def test_every_exported_name_exists() -> None:
    missing = [name for name in mongocat.__all__ if not hasattr(mongocat, name)]
    assert missing == []


def test_every_error_derives_from_mongocat_error() -> None:
    errors = [
        getattr(mongocat, name)
        for name in mongocat.__all__
        if isinstance(getattr(mongocat, name), type)
        and issubclass(getattr(mongocat, name), Exception)
    ]
    assert len(errors) == 32
    assert all(issubclass(error, mongocat.MongocatError) for error in errors)


def test_importing_mongocat_does_not_import_motor() -> None:
    import subprocess
    import sys

    code = "import sys, mongocat; print('motor' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
