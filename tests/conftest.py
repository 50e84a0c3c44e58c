"""Shared test configuration: the mongocat plugin is loaded by addopts (-p mongocat.testing)."""

pytest_plugins = ["pytester"]
