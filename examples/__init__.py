"""Runnable examples of mongocat."""
