"""The demo walks the seed tutorial and then the rest of mongocat, on each driver."""

import os
import subprocess
import sys

from mongocat import DriverName

#: Every line the tutorial's code prints, in its order (the quick example's ID varies).
TUTORIAL = [
    "== Quick example",
    "Found: Alice, age 30, role admin",
    "== CRUD",
    "Inserted 3 products",
    "Under $10:",
    "Doohickey: $4.49",
    "Widget: $9.99",
    "Names and prices (projection):",
    "Widget: $9.99",
    "Gadget: $24.99",
    "Doohickey: $4.49",
    "Modified: 1 document(s)",
    "Sale items updated: 1",
    "Deleted: 1 document(s)",
    "== Aggregation",
    "Sales summary:",
    "Gadget: $124.95 (5 units, 2 orders)",
    "Widget: $99.90 (10 units, 3 orders)",
]

#: What the demo adds for what the tutorial only mentions.
BEYOND = [
    "== Indexes",
    "Created index: sku_1",
    "find(sku == 'G-1') reads IXSCAN on index sku_1",
    "DuplicateKeyError: index sku_1, key {'sku': 'W-1'}",
    "== Bulk write",
    "Inserted 10000 documents in 4 batches",
    "Updated 1000, deleted 1000",
    "== Transaction",
    "Committed: 2 Gadgets sold, 13 left, 6 orders",
    "== Change stream",
    "Saw update of Widget: now $8.99",
    "== GridFS",
    "Stored widget.txt: 210000 bytes in 4 chunks",
    "Read back intact: True",
    "Done: dropped the demo database.",
]


def run_demo(uri: str, driver: DriverName) -> list[str]:
    """Run ``python -m mongocat.demo`` against ``uri``; return its stripped lines."""
    result = subprocess.run(
        [sys.executable, "-m", "mongocat.demo", "--driver", driver],
        env={**os.environ, "MONGOCAT_URI": uri},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def missing_in_order(lines: list[str], expected: list[str]) -> list[str]:
    """The expected lines that do not appear, in this order, among ``lines``."""
    position = 0
    missing = []
    for line in expected:
        try:
            position = lines.index(line, position) + 1
        except ValueError:
            missing.append(line)
    return missing


def test_missing_in_order_sees_order() -> None:
    assert missing_in_order(["a", "b", "c"], ["a", "c"]) == []
    assert missing_in_order(["a", "b", "c"], ["c", "a"]) == ["a"]


def test_demo_prints_the_tutorial_then_the_rest_in_order(
    mongocat_server_uri: str, mongocat_driver: DriverName
) -> None:
    lines = run_demo(mongocat_server_uri, mongocat_driver)
    assert lines[0].startswith(f"Connected with driver='{mongocat_driver}'"), lines[0]
    assert lines[2].startswith("Inserted ID: "), lines[2]
    assert missing_in_order(lines, TUTORIAL + BEYOND) == [], "\n".join(lines)
