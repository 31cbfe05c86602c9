"""One tagging run per database at a time: an OS file lock beside the database plus who holds it."""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from engine.errors import EngineError, StorageError

log = logging.getLogger(__name__)


class RunBusy(EngineError):
    """Another tagging run holds the database; the message names it (pid, host, start time, folders)."""


def _lock_paths(db_path: str | Path) -> tuple[str, str]:
    db = os.path.abspath(os.fspath(db_path))
    return db + ".tag-lock", db + ".tag-run.json"


def _holder(info_path: str) -> str:
    try:
        with open(info_path, encoding="utf-8") as fh:
            info = json.load(fh)
        folders = ", ".join(str(f) for f in info.get("folders", [])[:5])
        return f"pid {info.get('pid')} on {info.get('host')}, started {info.get('started')}, folders: {folders}"
    except (OSError, ValueError, AttributeError):
        return "pid unknown (it is just starting or finishing)"


def _cannot_write(folder: Path, exc: OSError) -> str:
    why = exc.strerror or str(exc)
    return (f"cannot write the tagging lock in {folder} ({why.lower()}); tagging needs a folder you can write "
            "for its database: fix the folder's permissions or free some space, or choose another database")


@contextmanager
def tagging_lock(db_path: str | Path, folders: Sequence[str]) -> Iterator[None]:
    """Hold the database's tagging lock for the block, or raise `RunBusy` at once.

    The lock is an OS lock (fcntl/msvcrt through `filelock`), so the kernel releases it when the
    holder dies, even from `kill -9`; the info file it leaves behind is simply overwritten.
    """
    lock_path, info_path = _lock_paths(db_path)
    folder = Path(lock_path).parent
    lock = FileLock(lock_path, timeout=0, thread_local=False)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise RunBusy(
            f"another tagging run is using {db_path} ({_holder(info_path)}); "
            "wait for it to finish, or stop it and run this command again"
        ) from None
    except OSError as exc:
        raise StorageError(_cannot_write(folder, exc)) from exc
    try:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "folders": list(folders),
                "started": datetime.now().astimezone().isoformat(timespec="seconds")}
        tmp = f"{info_path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(info, fh)
            os.replace(tmp, info_path)
        except OSError as exc:
            raise StorageError(_cannot_write(folder, exc)) from exc
        yield
    finally:
        try:
            os.unlink(info_path)
        except OSError:
            pass
        lock.release()
        log.debug("released the tagging lock of %s at %s", db_path, datetime.now(UTC).isoformat())
