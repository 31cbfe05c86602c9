"""Foundations: config merge and validation, progress/ETA and cancel, device resolution, database migrations."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest

from engine.config import ConfigBase, require_positive
from engine.db import open_db, register_migrations, transaction
from engine.device import resolve, resolve_device, resolve_precision
from engine.errors import Cancelled, ConfigError, StorageError
from engine.progress import CancelToken, ProgressReporter


@dataclass(frozen=True)
class _Cfg(ConfigBase):
    lr: float = 0.1
    sizes: tuple[int, ...] = (1, 2)
    name: str | None = None

    def __post_init__(self) -> None:
        require_positive("lr", self.lr)


def test_config_merge_order_defaults_file_then_overrides(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"lr": 1, "sizes": [3, 4]}))
    cfg = _Cfg.from_json(path)
    assert cfg == _Cfg(lr=1.0, sizes=(3, 4)) and isinstance(cfg.lr, float)
    assert cfg.replace(lr=None, name="x") == _Cfg(lr=1.0, sizes=(3, 4), name="x")  # None = flag not given
    assert _Cfg.from_dict(cfg.to_dict()) == cfg


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ConfigError) as info:
        _Cfg.from_dict({"lr": -1})
    assert info.value.field == "lr"
    with pytest.raises(ConfigError) as info:
        _Cfg.from_dict({"learning_rate": 1})
    assert info.value.field == "learning_rate"
    (tmp_path / "bad.json").write_text("{\n  'lr': 1\n}")
    with pytest.raises(ConfigError, match="line 2"):
        _Cfg.from_json(tmp_path / "bad.json")


def test_progress_reports_rate_eta_and_throttles():
    clock = iter([0.0, 1.0, 1.01, 2.0, 4.0])
    events = []
    rep = ProgressReporter(events.append, "stage", total=4, min_interval_s=0.5, clock=lambda: next(clock))
    rep.advance()  # t=1.0: reported, 1 unit/s, ETA 3 s
    rep.advance()  # t=1.01: throttled
    rep.advance()  # t=2.0
    rep.advance()  # t=4.0: final, always reported
    assert [e.done for e in events] == [1, 3, 4]
    assert events[0].rate == pytest.approx(1.0) and events[0].eta_s == pytest.approx(3.0)
    assert events[-1].fraction == 1.0


def test_cancel_token():
    token = CancelToken()
    token.raise_if_set()
    token.set()
    with pytest.raises(Cancelled, match="resume"):
        token.raise_if_set()


def test_device_and_precision_resolution():
    assert resolve_device("cpu") == "cpu"
    assert resolve("auto", "auto").device in ("cpu", "cuda")
    assert resolve_precision("auto", "cpu") == "fp32" and resolve_precision("auto", "cuda") == "fp16"
    for bad, field in [(lambda: resolve_device("tpu"), "device"), (lambda: resolve_precision("fp16", "cpu"),
                       "precision"), (lambda: resolve_precision("int4", "cpu"), "precision")]:
        with pytest.raises(ConfigError) as info:
            bad()
        assert info.value.field == field


def test_a_project_database_gets_every_area_whatever_was_imported_before(tmp_path):
    code = ("import sys, pathlib; from engine.project import Project; "
            "db = Project(pathlib.Path(sys.argv[1])).create().open_db(); "
            "print(sorted(db.table_names()))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "p")], capture_output=True, text=True,
                         check=True).stdout
    for table in ("captions", "labelsets", "synthetic_images", "tag_images", "tags", "schema_versions",
                  "project_state"):
        assert f"'{table}'" in out


@pytest.fixture
def _test_area():
    from engine import db as dbmod

    register_migrations("test-area", [lambda db: db.execute("CREATE TABLE t (x INTEGER)")])
    yield
    dbmod._MIGRATIONS.pop("test-area", None)


def test_a_failed_transaction_rolls_back_and_newer_schemas_are_refused(tmp_path, _test_area):
    db = open_db(tmp_path / "a.db")
    with pytest.raises(RuntimeError):
        with transaction(db):
            db.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("boom")
    assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
    db.execute("UPDATE schema_versions SET version = 99 WHERE area = 'test-area'")
    db.conn.commit()
    with pytest.raises(StorageError, match="newer"):
        open_db(tmp_path / "a.db")
