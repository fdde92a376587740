"""A real PostgreSQL server for the DuckLake tests: initdb in a temporary folder, a free port on 127.0.0.1.

Debian puts the server binaries under /usr/lib/postgresql/<version>/bin (not on PATH). PostgreSQL
refuses to run as root, so under root (CI containers) the server runs as the `postgres` user (or
`nobody`). The server is stopped (`pg_ctl stop -m immediate`) and its folder removed at the end.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates + ([str(Path(found).resolve().parent)] if found else []):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> str | None:
    """The user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a throw-away PostgreSQL; yield a libpq connection string for its `newsdesk` database."""
    binaries = postgres_bin()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin or on PATH): "
                    "apt-get install -y postgresql")
    user = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-pg-"))
    data = folder / "data"
    if user:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run(list(args), check=True, capture_output=True, text=True, user=user, cwd=folder, timeout=120)

    try:
        run(str(binaries / "initdb"), "-D", str(data), "-U", "newsdesk", "--auth=trust", "--no-sync", "-E", "UTF8")
        options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} -c fsync=off"
        run(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
        run(str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "newsdesk", "newsdesk")
    except subprocess.CalledProcessError as err:
        log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {err.stderr or err.stdout}\n{log[-2000:]}") from None
    try:
        yield f"dbname=newsdesk host=127.0.0.1 port={port} user=newsdesk"
    finally:
        try:
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        finally:
            time.sleep(0.1)
            shutil.rmtree(folder, ignore_errors=True)


def new_database(dsn: str, name: str) -> str:
    """A fresh database on the server of `dsn` (one per test: catalogs never leak between tests)."""
    binaries = postgres_bin()
    assert binaries is not None
    parts = dict(part.split("=", 1) for part in dsn.split())
    subprocess.run([str(binaries / "createdb"), "-h", parts["host"], "-p", parts["port"], "-U", parts["user"], name],
                   check=True, capture_output=True, text=True, user=_run_as(), timeout=60)
    return " ".join(f"{k}={name if k == 'dbname' else v}" for k, v in parts.items())
