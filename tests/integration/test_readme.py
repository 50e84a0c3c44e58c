"""The README's Python example runs as written, against a server and on its own."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"


def readme_example() -> str:
    """The first ``python`` code block of the README."""
    match = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None, "the README has no python code block"
    return match.group(1)


def run_example(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "example.py"
    script.write_text(readme_example(), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_readme_example_runs_against_the_test_server(
    tmp_path: Path, mongocat_server_uri: str
) -> None:
    result = run_example(tmp_path, {**os.environ, "MONGOCAT_URI": mongocat_server_uri})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Found Widget", "Widget 9.99"]


@pytest.mark.skipif(
    bool(os.environ.get("MONGOCAT_TEST_URI")),
    reason="against a real MongoDB, the embedded server may not be installed",
)
def test_the_readme_example_starts_the_embedded_server_without_a_uri(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MONGOCAT_URI"}
    result = run_example(tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Found Widget", "Widget 9.99"]
