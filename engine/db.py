"""Open the project SQLite database (WAL, foreign keys) and apply each area's numbered migrations."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from engine.errors import StorageError

log = logging.getLogger(__name__)

Migration = Callable[[sqlite_utils.Database], None]

# area name -> ordered list of migrations; each area (captions, synthesis, tags, ...) owns its tables and
# registers them when its store module is imported. `engine.project` imports every store, so a project's
# database always gets every area; this layer never imports the stores itself.
_MIGRATIONS: dict[str, list[Migration]] = {}


def register_migrations(area: str, migrations: list[Migration]) -> None:
    """Declare an area's migrations in order; version N means the first N have been applied."""
    _MIGRATIONS[area] = list(migrations)


def _read_only(path: Path) -> tuple[bool, bool]:
    """(open read-only, also immutable): an existing file we may not write, or one in a folder we may not write."""
    if not path.exists():
        return False, False
    folder_writable = os.access(path.parent, os.W_OK)
    return not (os.access(path, os.W_OK) and folder_writable), not folder_writable


def open_db(path: str | Path, *, areas: tuple[str, ...] | None = None) -> sqlite_utils.Database:
    """Open (creating if needed) a database, enable WAL, and migrate the given areas (default: all registered).

    A database from a newer app is refused before anything is written. A file (or folder) this user
    cannot write is opened read-only for reading, when its schema is current.
    """
    path = Path(path)
    read_only, immutable = _read_only(path)
    try:
        if read_only:
            uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("&immutable=1" if immutable else "")
            conn = sqlite3.connect(uri, uri=True, timeout=30.0, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot open database {path}: {exc}; check the folder exists and is writable") from exc
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 30000")
    try:
        pending = _pending_areas(db, areas)
        if read_only:
            if pending:
                raise StorageError(f"{path} is read-only and needs an upgrade ({', '.join(pending)}); "
                                   "open it once where it is writable")
            return db
        db.enable_wal()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path} is not a usable SQLite database: {exc}") from exc
    migrate(db, areas)
    return db


def _pending_areas(db: sqlite_utils.Database, areas: tuple[str, ...] | None) -> list[str]:
    """Areas with migrations still to apply; a `StorageError` (nothing written) for a schema newer than ours."""
    has_table = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'"
    ).fetchone()
    stored = dict(db.execute("SELECT area, version FROM schema_versions").fetchall()) if has_table else {}
    pending = []
    for area in areas if areas is not None else tuple(_MIGRATIONS):
        known = len(_MIGRATIONS.get(area, []))
        current = stored.get(area, 0)
        if current > known:
            raise StorageError(
                f"database schema for {area!r} is version {current}, newer than this app knows ({known}); "
                "update T2I-PAL Tagger"
            )
        if current < known:
            pending.append(area)
    return pending


def migrate(db: sqlite_utils.Database, areas: tuple[str, ...] | None = None) -> None:
    """Apply the pending migrations of `areas` (default: every area registered so far)."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_versions (area TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    for area in areas if areas is not None else tuple(_MIGRATIONS):
        steps = _MIGRATIONS.get(area, [])
        row = db.execute("SELECT version FROM schema_versions WHERE area = ?", [area]).fetchone()
        current = row[0] if row else 0
        if current > len(steps):
            raise StorageError(
                f"database schema for {area!r} is version {current}, newer than this app knows ({len(steps)}); "
                "update T2I-PAL Tagger"
            )
        for version in range(current + 1, len(steps) + 1):
            with transaction(db):
                steps[version - 1](db)
                db.execute(
                    "INSERT INTO schema_versions(area, version) VALUES (?, ?) "
                    "ON CONFLICT(area) DO UPDATE SET version = excluded.version",
                    [area, version],
                )
            log.debug("migrated %s schema to version %d", area, version)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (nothing half-written)."""
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.rollback()
        raise
    else:
        conn.commit()
