"""The layers of DESIGN.md hold: each module imports only its layer and those below.

Every import counts, including those under ``TYPE_CHECKING`` and inside functions.
A failure names the offending edge.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "mongocat"

VALUES, BUILDERS, SEAM, OPERATIONS, FACADE, INTEGRATIONS = range(6)
LAYERS = {
    # values: plain data
    "_summaries": VALUES,
    "_errors": VALUES,
    "_results": VALUES,
    "_version": VALUES,
    # builders and the pure halves of operations: no I/O, no driver beyond bson
    "_paths": BUILDERS,
    "_filters": BUILDERS,
    "_projection": BUILDERS,
    "_sort": BUILDERS,
    "_update": BUILDERS,
    "_types": BUILDERS,
    "_expressions": BUILDERS,
    "expr": BUILDERS,
    "acc": BUILDERS,
    "_pipeline": BUILDERS,
    "_indexes": BUILDERS,
    "_models": BUILDERS,
    "_pydantic_types": BUILDERS,
    "_coercion": BUILDERS,
    "_document_checks": BUILDERS,
    "_documents": BUILDERS,
    "_explain": BUILDERS,
    "_pagination": BUILDERS,
    "_bulk_shared": BUILDERS,
    "_object_ids": BUILDERS,
    "_change_events": BUILDERS,
    "_gridfs_chunks": BUILDERS,
    "_javascript": BUILDERS,
    "_schema": BUILDERS,
    "_collection_specs": BUILDERS,
    "_search_indexes": BUILDERS,
    # the driver seam and the database handle
    "_driver": SEAM,
    "_sessions": SEAM,
    "_deadlines": SEAM,
    "_observe": SEAM,
    "_concerns": SEAM,
    "_handle": SEAM,
    # operations: take the handle, never the Catalogue
    "_cursor": OPERATIONS,
    "_index_manager": OPERATIONS,
    "_bulk": OPERATIONS,
    "_changes": OPERATIONS,
    "_collection": OPERATIONS,
    "_checkpoints": OPERATIONS,
    "_gridfs": OPERATIONS,
    "_transaction": OPERATIONS,
    "_schema_plan": OPERATIONS,
    # the facade and the public surface
    "_catalogue": FACADE,
    "__init__": FACADE,
    # optional integrations
    "json": INTEGRATIONS,
    "fastapi": INTEGRATIONS,
    "telemetry": INTEGRATIONS,
    "embedded": INTEGRATIONS,
    "testing": INTEGRATIONS,
    "demo": INTEGRATIONS,
    "__main__": INTEGRATIONS,
}
SEAM_ONLY = ("motor", "pymongo.asynchronous")
DRIVER_PACKAGES = ("pymongo", "motor", "gridfs")


def _imports(module: str) -> tuple[set[str], set[str]]:
    """The mongocat modules and the external modules that ``module`` imports."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    internal: set[str] = set()
    external: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module is not None:
                if node.module == "mongocat" or node.module.startswith("mongocat."):
                    parts = node.module.split(".")[1:]
                    internal.add(parts[0] if parts else "__init__")
                else:
                    base = node.module
                    external.update(f"{base}.{alias.name}" for alias in node.names)
                    external.add(base)
            elif node.module:
                internal.add(node.module.split(".")[0])
            else:  # from . import acc, expr
                internal.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "mongocat" or alias.name.startswith("mongocat."):
                    parts = alias.name.split(".")[1:]
                    internal.add(parts[0] if parts else "__init__")
                else:
                    external.add(alias.name)
    return internal, external


GRAPH = {module: _imports(module) for module in LAYERS}


def test_every_module_has_a_layer() -> None:
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    assert modules == set(LAYERS), "give each new module a layer in LAYERS"


@pytest.mark.parametrize("module", sorted(LAYERS))
def test_imports_point_down(module: str) -> None:
    internal, _ = GRAPH[module]
    upward = sorted(
        f"{module} (layer {LAYERS[module]}) imports {target} (layer {LAYERS[target]})"
        for target in internal
        if LAYERS[target] > LAYERS[module]
    )
    assert not upward, upward


@pytest.mark.parametrize("module", sorted(LAYERS))
def test_only_the_seam_imports_the_async_drivers(module: str) -> None:
    _, external = GRAPH[module]
    if module == "_driver":
        return
    reached = sorted(
        name
        for name in external
        if any(name == seam or name.startswith(f"{seam}.") for seam in SEAM_ONLY)
        or name == "pymongo.AsyncMongoClient"
    )
    assert not reached, f"{module} imports {reached}: only _driver may"


@pytest.mark.parametrize("module", sorted(m for m, layer in LAYERS.items() if layer <= BUILDERS))
def test_builders_import_no_driver_beyond_bson(module: str) -> None:
    _, external = GRAPH[module]
    reached = sorted(name for name in external if name.split(".")[0] in DRIVER_PACKAGES)
    assert not reached, f"{module} imports {reached}: builders may use bson only"


def test_the_import_graph_has_no_cycle() -> None:
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = "visiting"
        path.append(module)
        for target in sorted(GRAPH[module][0]):
            if state.get(target) == "visiting":
                cycle = [*path[path.index(target) :], target]
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")
            if target not in state:
                visit(target)
        path.pop()
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
