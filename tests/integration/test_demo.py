"""The README's demo runs and says what it did, on each driver."""

import os
import subprocess
import sys

from mongocat import DriverName


def test_demo_walks_through_crud(mongocat_server_uri: str, mongocat_driver: DriverName) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mongocat.demo", "--driver", mongocat_driver],
        env={**os.environ, "MONGOCAT_URI": mongocat_server_uri},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("Inserted ID: ") for line in lines)
    for expected in [
        f"Connected with driver='{mongocat_driver}'",
        "Found: Alice, age 30, role admin",
        "Inserted 3 products",
        "Widget price: $9.99",
        "Under $10: Widget @ $9.99",
        "In stock: 2 of 3 products",
        "By price, highest first: Gadget, Gizmo, Widget",
        "Matched 1, modified 1",
        "Sold 2 Widgets at $7.99; 118 left",
        "Restocked 1 product(s)",
        "DuplicateKeyError: index sku_1, key {'sku': 'W-1'}",
        "Deleted 1 product; 2 left",
    ]:
        assert expected in lines or any(line.startswith(expected) for line in lines), expected
