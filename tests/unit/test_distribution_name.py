"""The distribution is mongocat-async: no install hint may name the unrelated `mongocat`."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRONG = re.compile(r"pip install ['\"]?mongocat(?![-\w])|['\"`]mongocat\[")
SOURCES = sorted(
    path
    for pattern in ("src/**/*.py", "docs/**/*.rst", "examples/**/*.py", "*.md", "noxfile.py")
    for path in ROOT.glob(pattern)
    if "_build" not in path.parts
)


def test_there_are_files_to_check() -> None:
    assert any(path.suffix == ".rst" for path in SOURCES)
    assert any(path.name == "README.md" for path in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_install_hints_name_mongocat_async(path: Path) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if WRONG.search(line) and "unrelated" not in line
    ]
    assert not found, "write mongocat-async (the PyPI mongocat is another project): " + "; ".join(
        found
    )


def test_the_project_is_named_mongocat_async() -> None:
    assert re.search(r'^name = "mongocat-async"$', (ROOT / "pyproject.toml").read_text(), re.M)
