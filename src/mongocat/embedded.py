"""An embedded MongoDB-compatible server for tests and demos.

:class:`EmbeddedServer` runs `SecantusDB <https://pypi.org/project/secantusdb/>`_
(``pip install 'mongocat-async[embedded]'``) as a separate process on loopback, with its
data in memory (or in a directory you name, to survive restarts). SecantusDB is
GPL-2.0; mongocat only ever runs its ``secantusd-py`` program and never imports it.

It is a stand-in, not MongoDB: use it to develop and test against the wire protocol
on a machine without ``mongod``, and test against a real server before production.

Example:
    >>> with EmbeddedServer() as server:  # doctest: +SKIP
    ...     cat = Catalogue.connect(server.uri, "shop")
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pymongo
import pymongo.errors

from ._errors import ConfigurationError, ServerUnavailable

__all__ = ["EmbeddedServer"]

_PROGRAM = "secantusd-py"


def _free_port(host: str) -> int:
    """Return a TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _find_program() -> str:
    """Find ``secantusd-py`` beside this interpreter, then on PATH."""
    here = os.path.dirname(sys.executable)
    found = shutil.which(_PROGRAM, path=os.pathsep.join([here, os.environ.get("PATH", "")]))
    if found is None:
        raise ConfigurationError(
            f"the embedded server program {_PROGRAM!r} was not found; install it with "
            "pip install 'mongocat-async[embedded]', or set MONGOCAT_URI / MONGOCAT_TEST_URI "
            "to use a MongoDB server you run"
        )
    return found


def _die_with_parent() -> None:  # pragma: no cover - runs in the child process
    """Ask Linux to stop the server if the process that started it dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        # SIGKILL, not SIGTERM: the server's graceful shutdown can hang (seen when its
        # clients died with the parent), and nothing is left to escalate after it.
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class EmbeddedServer:
    """A SecantusDB server process on loopback, started and stopped by this object.

    The server stops when :meth:`stop` runs, when the ``with`` block exits, when the
    Python process exits, and (on Linux) when the process that started it dies.

    Args:
        host: The loopback address to listen on.
        port: The port; a free one is picked when None.
        enable_test_commands: Accept ``configureFailPoint`` for fault-injection tests.
        extra_args: More ``secantusd-py`` flags (``["--auth"]``, TLS files, ...).
        storage_path: A directory to keep the data in, which survives :meth:`stop`
            and is reopened by the next :meth:`start`; in memory when None.
        tls_cert_file: Serve TLS with this PEM certificate (chain); needs
            ``tls_key_file``.
        tls_key_file: The certificate's private key (PEM).
        tls_ca_file: The CA that signed the certificate: :attr:`uri` then asks
            clients to check the server against it.
        startup_timeout: Seconds to wait for the server to answer ``ping``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        enable_test_commands: bool = True,
        extra_args: Sequence[str] = (),
        storage_path: str | os.PathLike[str] | None = None,
        tls_cert_file: str | os.PathLike[str] | None = None,
        tls_key_file: str | os.PathLike[str] | None = None,
        tls_ca_file: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        if (tls_cert_file is None) != (tls_key_file is None):
            raise ConfigurationError("give tls_cert_file and tls_key_file together")
        self.host = host
        self.port = port
        self.enable_test_commands = enable_test_commands
        self.extra_args = tuple(extra_args)
        self.storage_path = None if storage_path is None else Path(storage_path)
        self.tls_cert_file = None if tls_cert_file is None else os.fspath(tls_cert_file)
        self.tls_key_file = None if tls_key_file is None else os.fspath(tls_key_file)
        self.tls_ca_file = None if tls_ca_file is None else os.fspath(tls_ca_file)
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<EmbeddedServer {self.host}:{self.port} {state}>"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def uri(self) -> str:
        """The connection string, with ``retryWrites=false``.

        The stand-in's cost per write grows with every retryable write it serves, so
        clients of it turn retryable writes off; a real server keeps the default.
        """
        if self.port is None:
            raise ConfigurationError("the embedded server has no port yet; call start() first")
        tls = ""
        if self.tls_cert_file is not None:
            tls = "&tls=true" + (f"&tlsCAFile={self.tls_ca_file}" if self.tls_ca_file else "")
        return f"mongodb://{self.host}:{self.port}/?retryWrites=false{tls}"

    def start(self) -> Self:
        """Start the server and wait until it answers ``ping``.

        Returns:
            The server itself, running.

        Raises:
            ConfigurationError: ``secantusd-py`` is not installed.
            ServerUnavailable: The server exited or did not answer in time; the
                message has the end of its log.
        """
        if self.running:
            return self
        program = _find_program()
        self._workdir = Path(tempfile.mkdtemp(prefix="mongocat-embedded-"))
        # An empty config file stops the server from picking up a stray
        # ./secantusd.toml or ~/.secantus/secantusd.toml.
        config = self._workdir / "secantusd.toml"
        config.write_text("")
        port = self.port if self.port is not None else _free_port(self.host)
        args = [program, "--config", str(config), "--host", self.host, "--port", str(port)]
        storage = ":memory:" if self.storage_path is None else str(self.storage_path.resolve())
        args += ["--storage-path", storage, *self.extra_args]
        if self.tls_cert_file is not None and self.tls_key_file is not None:
            args += ["--tls-cert-file", self.tls_cert_file, "--tls-key-file", self.tls_key_file]
        if self.enable_test_commands:
            args.append("--enable-test-commands")
        log = (self._workdir / "server.log").open("wb")
        self._process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self._workdir,
            env={**os.environ, "TMPDIR": str(self._workdir)},
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()
        self.port = port
        atexit.register(self.stop)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _log_tail(self, lines: int = 20) -> str:
        """Return the end of the server's log."""
        if self._workdir is None:
            return ""
        with contextlib.suppress(OSError):
            text = (self._workdir / "server.log").read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    def _wait_until_ready(self) -> None:
        """Poll ``ping`` until the server answers, exits, or the timeout passes."""
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._process.poll() is not None:
                raise ServerUnavailable(
                    f"the embedded server exited with code {self._process.returncode} "
                    f"before answering; its log ends:\n{self._log_tail()}"
                )
            tls: dict[str, Any] = {}
            if self.tls_cert_file is not None:
                tls = {"tls": True}
                if self.tls_ca_file is not None:
                    tls["tlsCAFile"] = self.tls_ca_file
            client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
                self.host,
                self.port,
                serverSelectionTimeoutMS=250,
                connectTimeoutMS=250,
                directConnection=True,
                **tls,
            )
            try:
                client.admin.command("ping")
                return
            except pymongo.errors.PyMongoError:
                if time.monotonic() > deadline:
                    raise ServerUnavailable(
                        f"the embedded server did not answer within {self.startup_timeout}s; "
                        f"its log ends:\n{self._log_tail()}"
                    ) from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        """Stop the server and remove its files; stopping twice is harmless."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            atexit.unregister(self.stop)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
