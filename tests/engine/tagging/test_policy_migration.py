"""A tag database from before the threshold policy migrates in place: rows kept, default policy, overrides stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine.db import open_db
from engine.tagging import store as store_module
from engine.tagging.store import ImageResult, TagStore
from tests.engine.tagging.conftest import tiny_metadata


def test_a_version_1_database_gets_the_policy_tables(tmp_path: Path) -> None:
    db_path = tmp_path / "old.db"
    conn = sqlite3.connect(db_path)  # what the tags area looked like at schema version 1
    conn.execute("CREATE TABLE schema_versions (area TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    conn.commit()
    conn.close()
    db = open_db(db_path, areas=())
    store_module._v1(db)
    db.execute("INSERT INTO schema_versions(area, version) VALUES ('tags', 1)")
    db.conn.commit()
    with TagStore(db) as store:
        model = store.register_model(tiny_metadata())
        run = store.start_run(model, ["/p"])
        store.write_batch([ImageResult("/p/a.jpg", 1, 1, tags={"red": 0.9, "green": 0.1})], run_id=run,
                          model_id=model)
    with TagStore.open(db_path) as store:  # opening migrates
        (version,) = store.db.execute("SELECT version FROM schema_versions WHERE area = 'tags'").fetchone()
        assert version == 2
        assert store.labels_in_force("/p/a.jpg") == {"red"}
        policy = store.threshold_policy()
        assert (policy.operating_point, policy.global_offset, policy.overrides) == ("max_f1", 0.0, {})
        store.set_label_threshold("green", 0.0)
        store.set_policy_value("global_offset", 0.0)
        assert store.labels_in_force("/p/a.jpg") == {"red", "green"}
    with TagStore.open(db_path) as store:
        assert store.threshold_policy().overrides == {"green": 0.0}
