"""python -m mongocat plan|ensure|sync, end to end in a subprocess (PyMongo)."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pymongo
import pytest

DECLARE = """
from mongocat import Index, TimeSeries

def declare(cat):
    cat.declare_collection(
        "readings", timeseries=TimeSeries("at", meta_field="sensor", granularity="{granularity}")
    )
    cat.register_indexes("items", Index("sku", unique=True))
"""


def run(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mongocat", *arguments],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def uri(mongocat_server_uri: str, mongocat_database_name: str) -> Iterator[str]:
    """The test server's URI naming a fresh database, dropped after."""
    base, _, query = mongocat_server_uri.partition("?")
    yield f"{base.rstrip('/')}/{mongocat_database_name}" + (f"?{query}" if query else "")
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(mongocat_server_uri)
    with client:
        client.drop_database(mongocat_database_name)


def test_plan_ensure_and_exit_codes(tmp_path: Path, uri: str) -> None:
    (tmp_path / "schema_minutes.py").write_text(DECLARE.format(granularity="minutes"))
    (tmp_path / "schema_hours.py").write_text(DECLARE.format(granularity="hours"))
    planned = run(tmp_path, "plan", "--uri", uri, "schema_minutes:declare", "--json")
    assert planned.returncode == 1, planned.stderr  # changes pending
    body = json.loads(planned.stdout)
    assert [c["action"] for c in body["collections"]] == ["create"]
    assert body["indexes"]["items"]["create"] == ["sku_1"]
    dry = run(tmp_path, "ensure", "--uri", uri, "schema_minutes:declare", "--dry-run")
    assert dry.returncode == 1
    assert "+ create collection readings" in dry.stdout
    ensured = run(tmp_path, "ensure", "--uri", uri, "schema_minutes:declare")
    assert ensured.returncode == 0, ensured.stderr
    again = run(tmp_path, "plan", "--uri", uri, "schema_minutes:declare")
    assert (again.returncode, again.stdout.splitlines()[0]) == (0, "schema plan: nothing to do")
    conflict = run(tmp_path, "sync", "--uri", uri, "schema_hours:declare", "--json")
    assert conflict.returncode == 2
    assert json.loads(conflict.stdout)["applied"] is False


def test_errors_exit_3_and_never_print_the_password(tmp_path: Path) -> None:
    (tmp_path / "schema.py").write_text(DECLARE.format(granularity="minutes"))
    secret = "s3cr3t-canary"
    bad = run(
        tmp_path,
        "plan",
        "--uri",
        f"mongodb://user:{secret}@127.0.0.1:1/db?serverSelectionTimeoutMS=200",
        "schema:declare",
    )
    assert bad.returncode == 3
    assert secret not in bad.stdout + bad.stderr
    missing = run(tmp_path, "plan", "--uri", "mongodb://127.0.0.1:1/db", "nosuch:declare")
    assert missing.returncode == 3
    assert "cannot import 'nosuch'" in missing.stderr
