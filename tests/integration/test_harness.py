"""The test harness itself: the server it starts always stops, and markers skip honestly."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mongocat import Catalogue, ConfigurationError
from mongocat.embedded import EmbeddedServer
from mongocat.testing import ServerFeatures

INNER_INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""

# The inner test run records the embedded server's port, then ends in the way
# each test asks for.
INNER_TEST = """
import os, signal, time
from pathlib import Path

async def test_uses_the_server(catalogue, mongocat_server_uri):
    Path(os.environ["PORT_FILE"]).write_text(mongocat_server_uri.split(":")[2].split("/")[0])
    await catalogue.ping()
    ending = os.environ["ENDING"]
    if ending == "fail":
        assert False, "this test fails on purpose"
    if ending == "interrupt":
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    if ending == "hang":
        time.sleep(600)
"""


def _server_processes(port: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "secantusd-py" in cmdline and f"--port {port} " in cmdline + " ":
            found.append(f"{proc.name}: {cmdline}")
    return found


def _refuses_connections(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _wait_for_no_server(port: str, seconds: float = 20) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := _server_processes(port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _inner_env(tmp_path: Path, ending: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MONGOCAT_TEST_URI"}
    env.update(PORT_FILE=str(tmp_path / "port"), ENDING=ending)
    return env


def _write_inner_project(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(INNER_INI)
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TEST))


def _pytest_in(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run pytest with the plugin in ``tmp_path``, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "mongocat.testing", "-q", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _run_inner(tmp_path: Path, ending: str) -> subprocess.CompletedProcess[str]:
    _write_inner_project(tmp_path)
    return _pytest_in(tmp_path, _inner_env(tmp_path, ending), "-k", "pymongo")


@pytest.mark.parametrize(
    ("ending", "exit_code"),
    [
        pytest.param("pass", 0, id="passing-run"),
        pytest.param("fail", 1, id="failing-run"),
        pytest.param("interrupt", 2, id="interrupted-run"),
    ],
)
def test_no_server_is_left_running_after_the_test_run(
    tmp_path: Path, ending: str, exit_code: int
) -> None:
    result = _run_inner(tmp_path, ending)
    assert result.returncode == exit_code, result.stdout + result.stderr
    port = (tmp_path / "port").read_text()
    assert _wait_for_no_server(port) == []
    assert _refuses_connections(int(port))


def test_no_server_is_left_running_when_the_test_process_is_killed(tmp_path: Path) -> None:
    _write_inner_project(tmp_path)
    inner = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "mongocat.testing", "-q", "-k", "pymongo"],
        cwd=tmp_path,
        env=_inner_env(tmp_path, "hang"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "port").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        port = (tmp_path / "port").read_text()
        assert _server_processes(port) != []
    finally:
        inner.send_signal(signal.SIGKILL)
        inner.wait()
    assert _wait_for_no_server(port) == []


def test_embedded_server_start_stop_and_cleanup() -> None:
    server = EmbeddedServer()
    with server:
        assert server.running
        assert server.uri == f"mongodb://127.0.0.1:{server.port}/?retryWrites=false"
        workdir = server._workdir
        assert workdir is not None
        assert workdir.exists()
        assert "running" in repr(server)
    assert not server.running
    assert not workdir.exists()
    assert server.port is not None
    assert _refuses_connections(server.port)
    server.stop()  # stopping twice is harmless


def test_embedded_server_missing_program_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("mongocat.embedded._PROGRAM", "no-such-secantusd")
    with pytest.raises(ConfigurationError, match=r"pip install 'mongocat-async\[embedded\]'"):
        EmbeddedServer().start()


def test_embedded_server_uri_needs_a_port() -> None:
    with pytest.raises(ConfigurationError, match="call start"):
        _ = EmbeddedServer().uri


def test_unknown_server_feature_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown server feature 'time_travel'"):
        ServerFeatures().missing("time_travel")


@pytest.mark.server_feature("text_index")
async def test_text_search_with_a_raw_filter(catalogue: Catalogue) -> None:
    articles = catalogue.collection("articles")
    await articles.driver_collection.create_index([("body", "text")])
    await articles.insert_many(
        [{"body": "the quick brown fox"}, {"body": "a lazy dog"}, {"body": "fox and dog"}]
    )
    found = await articles.find({"$text": {"$search": "fox"}}, projection={"_id": 0})
    assert sorted(d["body"] for d in found) == ["fox and dog", "the quick brown fox"]


def test_server_feature_marker_skips_with_the_servers_answer(
    tmp_path: Path, mongocat_server_features: ServerFeatures, mongocat_server_uri: str
) -> None:
    (tmp_path / "pytest.ini").write_text(INNER_INI)
    (tmp_path / "test_marked.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.mark.server_feature("text_index")
            def test_marked():
                pass
            """
        )
    )
    env = {**os.environ, "MONGOCAT_TEST_URI": mongocat_server_uri}
    result = _pytest_in(tmp_path, env, "-rs")
    reason = mongocat_server_features.missing("text_index")
    if reason is None:
        assert "1 passed" in result.stdout, result.stdout
    else:
        assert "1 skipped" in result.stdout, result.stdout
        assert f"the test server lacks text_index: {reason}" in result.stdout


RETRY_INNER_TEST = """
async def test_retry_writes_as_asked(catalogue, mongocat_server_uri):
    import os
    wanted = os.environ.get("MONGOCAT_TEST_RETRY_WRITES") == "1"
    assert ("retryWrites=true" in mongocat_server_uri) is wanted
    assert catalogue.client.options.retry_writes is wanted
    await catalogue.collection("items").insert_one({"_id": 1})
"""


@pytest.mark.parametrize("setting", ["1", None], ids=["retry-writes-on", "default-off"])
def test_the_embedded_server_keeps_retryable_writes_on_when_asked(
    tmp_path: Path, setting: str | None
) -> None:
    (tmp_path / "pytest.ini").write_text(INNER_INI)
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(RETRY_INNER_TEST))
    env = _inner_env(tmp_path, "pass")
    env.pop("MONGOCAT_TEST_RETRY_WRITES", None)
    if setting is not None:
        env["MONGOCAT_TEST_RETRY_WRITES"] = setting
    result = _pytest_in(tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
