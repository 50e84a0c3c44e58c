"""Sphinx configuration. The build is offline: no intersphinx inventories are fetched."""

from __future__ import annotations

import mongocat

project = "mongocat"
author = "The mongocat developers"
copyright = "2026, The mongocat developers"
release = mongocat.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

html_theme = "furo"
html_title = f"mongocat {release}"
html_static_path = ["_static"]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

nitpicky = True
# The build is offline, so the standard library's, bson's and the drivers' own
# objects cannot be linked; everything of mongocat's must resolve.
nitpick_ignore_regex = [
    (r"py:.*", r"(typing|typing_extensions|collections\.abc|types|enum|contextlib)\..*"),
    (
        r"py:.*",
        r"(bson|pymongo|motor|pytest|_pytest|fastapi|starlette|pydantic|json|opentelemetry)(\..*)?",
    ),
    (r"py:class", r"(Any|Self|Path|Sequence|Mapping|Iterable|AsyncIterator|Generator)"),
    (r"py:class", r"TracebackType"),
    (r"py:class", r"(str|int|float|bool|bytes|dict|list|tuple|set|frozenset|type|object)"),
    (r"py:class", r"(Exception|BaseException|ValueError|NoneType|None)"),
    (r"py:class", r"(pathlib|subprocess|os)\..*"),
    # Names that autodoc qualifies with the documented module although they are the
    # standard library's, and a variadic tuple it cannot split.
    (r"py:.*", r"mongocat\.(Any|Self)"),
    (r"py:class", r"(tuple|dict)\[.*"),
    # Overload signatures are read from the source, with the private module path.
    (r"py:class", r"mongocat\._(collection|cursor|pagination)\.(Collection|Cursor|Page)"),
    (r"py:class", r"mongocat\._bulk\.BulkWriter"),
    (r"py:class", r"mongocat\._models\.ModelFields"),
    (r"py:class", r"mongocat\._changes\.(ChangeStream|Consumer)"),
    (r"py:class", r"mongocat\._change_events\.(ChangeEvent|WatchOptions)"),
    # What mongocat hands its operation objects: internal, never built by users (their
    # docs say where to get one).
    (r"py:class", r"mongocat\._handle\.DatabaseHandle"),
    (r"py:class", r"mongocat\._documents\.DocumentCoder"),
    (r"py:class", r"mongocat\._bulk_shared\.BulkOptions"),
    (r"py:class", r"mongocat\._checkpoints\._Collections"),
    # A private base class, and quoted unions that autodoc splits at the comma.
    (r"py:class", r"mongocat\._paths\.FieldPath"),
    (r"py:(class|obj)", r"mongocat\._\w+\._(T|Row|M)"),
    # The small read/write protocols an upload source or download target satisfies.
    (r"py:class", r"mongocat\._gridfs_chunks\.(_Readable|_AsyncReadable|Writable)"),
    (r"py:class", r".* \| Mapping\[str"),
    (r"py:class", r"(re|datetime)\..*"),
]
exclude_patterns = ["_build", "performance_table.rst"]  # included by performance.rst
