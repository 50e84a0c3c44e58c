"""``python -m mongocat plan|ensure|sync``: apply a declared schema from a deploy step.

Usage::

    python -m mongocat plan   --uri mongodb://db/shop  myapp.schema:declare
    python -m mongocat ensure --uri "$MONGODB_URI"      myapp.schema:declare --json
    python -m mongocat sync   --drop-unknown            myapp.schema:make_catalogue

The target, ``module:attribute``, is one of:

* a function of one argument, called with a Catalogue on ``--uri`` to declare on it
  (``cat.declare_collection(...)``, ``cat.register_indexes(...)``);
* a function of no arguments returning a Catalogue (or an awaitable of one) with its
  declarations, such as the application's own factory (``--uri`` then unused);
* a list of :class:`~mongocat.CollectionSpec` values.

Exit codes, for CI: 0 nothing to do (or, for ``ensure``/``sync``, all applied), 1
changes pending (``plan``, or ``--dry-run``), 2 a conflict (nothing applied), 3 an
error (the message says which; the URI's password is never printed).
"""

import argparse
import asyncio
import dataclasses
import importlib
import inspect
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from ._catalogue import Catalogue
from ._collection_specs import CollectionSpec
from ._errors import MongocatError
from ._schema_plan import SchemaPlan

__all__ = ["main"]

NOTHING_TO_DO, CHANGES_PENDING, CONFLICTS, ERROR = 0, 1, 2, 3


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mongocat",
        description="Plan or apply the collections and indexes a module declares.",
    )
    parser.add_argument("command", choices=["plan", "ensure", "sync"])
    parser.add_argument("target", help="module:attribute (a declaring function, a factory)")
    parser.add_argument("--uri", default=os.environ.get("MONGOCAT_URI"), help="$MONGOCAT_URI")
    parser.add_argument("--database", default=None, help="default: the URI's database")
    parser.add_argument("--driver", choices=["pymongo", "motor"], default="pymongo")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--dry-run", action="store_true", help="plan only (ensure/sync)")
    parser.add_argument("--drop-unknown", action="store_true", help="plan/sync index drops")
    return parser.parse_args(argv)


def _load(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise MongocatError(f"the target must be module:attribute, not {target!r}")
    sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MongocatError(f"cannot import {module_name!r}: {exc}") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise MongocatError(f"{module_name!r} has no attribute {attribute!r}") from None


async def _catalogue(target: Any, arguments: argparse.Namespace) -> Catalogue:
    if callable(target) and not inspect.signature(target).parameters:
        made = target()
        catalogue = await made if inspect.isawaitable(made) else made
        if not isinstance(catalogue, Catalogue):
            raise MongocatError(f"the target returned {type(catalogue).__name__}, not a Catalogue")
        return catalogue
    if not arguments.uri:
        raise MongocatError("give --uri (or set MONGOCAT_URI) for this target")
    catalogue = Catalogue.connect(arguments.uri, arguments.database, driver=arguments.driver)
    if callable(target):
        declared = target(catalogue)
        if inspect.isawaitable(declared):
            await declared
    elif isinstance(target, list | tuple) and all(isinstance(s, CollectionSpec) for s in target):
        for spec in target:
            options = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
            del options["name"]
            catalogue.declare_collection(spec.name, **options)
    else:
        raise MongocatError(
            "the target must be a function (declaring on a Catalogue, or making one) or a "
            f"list of CollectionSpec, not {type(target).__name__}"
        )
    return catalogue


def _report(plan: SchemaPlan, arguments: argparse.Namespace, applied: bool) -> None:
    if arguments.json:
        print(json.dumps({**plan.to_dict(), "applied": applied}, default=str, indent=2))
    else:
        print(plan)
        if applied and not plan.changes_nothing:
            print("applied")


async def _run(arguments: argparse.Namespace) -> int:
    catalogue = await _catalogue(_load(arguments.target), arguments)
    async with catalogue:
        plan = await catalogue.plan(drop_unknown=arguments.drop_unknown)
        if plan.conflicts:
            _report(plan, arguments, applied=False)
            return CONFLICTS
        if arguments.command == "plan" or arguments.dry_run:
            _report(plan, arguments, applied=False)
            return NOTHING_TO_DO if plan.changes_nothing else CHANGES_PENDING
        if arguments.command == "sync":
            applied = await catalogue.sync(drop_unknown=arguments.drop_unknown)
        else:
            applied = await catalogue.ensure()
        _report(applied, arguments, applied=True)
        return NOTHING_TO_DO


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    arguments = _arguments(argv)
    try:
        return asyncio.run(_run(arguments))
    except MongocatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ERROR


if __name__ == "__main__":
    sys.exit(main())
