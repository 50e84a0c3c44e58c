"""Server-side JavaScript, off by default: find ``$where``, ``$function``, ``$accumulator``.

MongoDB's security checklist advises turning server-side scripting off; a filter or
pipeline that reaches the server with one of these operators runs JavaScript there
(``{"$where": "sleep(100) || true"}``). mongocat refuses them, in builders and raw
documents alike, unless the Catalogue was made with ``allow_javascript=True``. Pure:
no I/O.
"""

from collections.abc import Mapping
from typing import Any, Final

from ._errors import InvalidQuery
from ._paths import SCALAR_TYPES

__all__ = [
    "JAVASCRIPT_COMMANDS",
    "JAVASCRIPT_OPERATORS",
    "find_javascript",
    "refuse_javascript",
    "refuse_javascript_command",
]

#: The query and aggregation operators that run JavaScript on the server.
JAVASCRIPT_OPERATORS: Final = frozenset({"$where", "$function", "$accumulator"})
#: The commands that run JavaScript on the server.
JAVASCRIPT_COMMANDS: Final = frozenset({"mapreduce", "$eval", "eval"})


def find_javascript(value: Any) -> str | None:
    """The first JavaScript operator anywhere in ``value`` (keys only), or None."""
    kind = type(value)
    if kind in SCALAR_TYPES:
        return None
    if kind is dict or isinstance(value, Mapping):
        for key, item in value.items():
            if key in JAVASCRIPT_OPERATORS:
                return str(key)
            if type(item) not in SCALAR_TYPES:
                found = find_javascript(item)
                if found is not None:
                    return found
        return None
    if kind is list or kind is tuple:
        for item in value:
            found = find_javascript(item)
            if found is not None:
                return found
        return None
    to_mongo = getattr(value, "to_mongo", None)  # a builder (Filter, Pipeline, Update)
    return find_javascript(to_mongo()) if callable(to_mongo) else None


def refuse_javascript(value: Any, operation: str) -> None:
    """Raise InvalidQuery if ``value`` (a filter, update, pipeline) would run JavaScript.

    Raises:
        InvalidQuery: ``value`` holds ``$where``, ``$function`` or ``$accumulator``.
    """
    if type(value) is dict:  # the common case: a document's top level is looked at here
        for key, item in value.items():
            if key in JAVASCRIPT_OPERATORS or (
                type(item) not in SCALAR_TYPES and find_javascript(item) is not None
            ):
                break  # found: walked again below, for its name
        else:
            return  # one Python call fewer for a flat filter, as most are
    found = find_javascript(value)
    if found is not None:
        raise InvalidQuery(
            f"{operation}() would run server-side JavaScript ({found}), which mongocat "
            f"refuses by default (MongoDB's security checklist advises turning it off): "
            f"rewrite it with query or aggregation operators, or make the Catalogue with "
            f"allow_javascript=True if the code is yours and the server allows scripting"
        )


def refuse_javascript_command(command: Mapping[str, Any]) -> None:
    """Raise InvalidQuery for a command that runs JavaScript (``mapReduce``, a ``$where``).

    Raises:
        InvalidQuery: The command is ``mapReduce`` or holds a JavaScript operator.
    """
    name = next(iter(command), "")
    if isinstance(name, str) and name.lower() in JAVASCRIPT_COMMANDS:
        raise InvalidQuery(
            f"the {name} command runs server-side JavaScript, which mongocat refuses by "
            f"default: use an aggregation pipeline instead, or make the Catalogue with "
            f"allow_javascript=True"
        )
    refuse_javascript(command, f"command {name!r}" if name else "command")
