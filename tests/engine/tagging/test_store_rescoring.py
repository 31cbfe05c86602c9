"""Re-tagging a photo gives every label the new model's score; a person's decision keeps its source."""

from __future__ import annotations

from pathlib import Path

from engine.tagging.store import ImageResult, TagStore


def _register(store: TagStore, checksum: str) -> int:
    row = store.db.execute(
        "INSERT INTO tag_models(checksum, path, labels_json, metadata_json, registered) VALUES (?, '', '[]', '{}', '') "
        "RETURNING id", [checksum]).fetchone()
    store.db.conn.commit()
    return int(row[0])


def test_decisions_keep_their_source_and_get_the_new_score(tmp_path: Path) -> None:
    photo = str(tmp_path / "a.jpg")
    with TagStore.open(tmp_path / "t.db") as store:
        old = _register(store, "old")
        run = store.start_run(old, [str(tmp_path)])
        store.write_batch([ImageResult(photo, 1, 1, tags={"dog": 0.9, "cat": 0.2, "car": 0.1})], run_id=run,
                          model_id=old)
        store.set_decision(photo, "dog", "confirmed")
        store.set_decision(photo, "cat", "rejected")
        store.set_decision(photo, "sky", "manual")
        new = _register(store, "new")
        run = store.start_run(new, [str(tmp_path)])
        store.write_batch([ImageResult(photo, 1, 2, tags={"dog": 0.4, "cat": 0.7, "car": 0.3, "sky": 0.8})],
                          run_id=run, model_id=new)
        assert store.tags_of(photo) == {"dog": (0.4, "confirmed"), "cat": (0.7, "rejected"),
                                        "car": (0.3, "auto"), "sky": (0.8, "manual")}
