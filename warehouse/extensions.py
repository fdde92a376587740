"""DuckDB extensions from their PyPI packages (duckdb-extension-<name>), LOADed by path.

Nothing is installed or downloaded at run time: a missing package is a one-line error with
the `pip install` that fixes it (every extension used here is in the lock file).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb

from transforms.errors import NotInstalled

DUCKDB_VERSION = f"v{duckdb.__version__}"
# package, file in the package, the name DuckDB expects (its entry point is named after the file)
EXTENSIONS = {
    "ducklake": ("duckdb_extension_ducklake", "ducklake", "ducklake"),
    "postgres": ("duckdb_extension_postgres", "postgres", "postgres_scanner"),
    "sqlite": ("duckdb_extension_sqlite", "sqlite", "sqlite_scanner"),
    "httpfs": ("duckdb_extension_httpfs", "httpfs", "httpfs"),
    "fts": ("duckdb_extension_fts", "fts", "fts"),
}


def extension_path(name: str) -> str:
    """The extension file from its PyPI package, under the name DuckDB wants (a link in a temp folder)."""
    package, stem, wanted = EXTENSIONS[name]
    remedy = f"pip install {package.replace('_', '-')}=={DUCKDB_VERSION[1:]} (it is in the lock file)"
    try:
        module = __import__(package)
    except ImportError:
        raise NotInstalled(f"the DuckDB {name} extension is not installed: {remedy}") from None
    source = Path(module.__file__ or "").parent / "extensions" / DUCKDB_VERSION / f"{stem}.duckdb_extension"
    if not source.exists():
        raise NotInstalled(f"the DuckDB {name} extension for DuckDB {DUCKDB_VERSION} is not installed "
                             f"({source}): {remedy}")
    if stem == wanted:
        return str(source)
    folder = Path(tempfile.gettempdir()) / f"newsdesk-duckdb-extensions-{os.getuid()}" / DUCKDB_VERSION
    link = folder / f"{wanted}.duckdb_extension"
    if not link.exists():
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{wanted}.{os.getpid()}.tmp"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(source)
        os.replace(temporary, link)
    return str(link)


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """LOAD `name` from its package; never INSTALL, never auto-install from the network."""
    con.execute(f"LOAD {quote(extension_path(name))}")


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
