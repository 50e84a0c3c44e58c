"""Shared test configuration: the mongocat plugin is loaded by addopts (-p mongocat.testing)."""

import socket

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def unused_port() -> int:
    """A loopback port where nothing listens (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
