"""The model manager lists the hub cache and fetches with the engine's code (fake hub on 127.0.0.1)."""

from __future__ import annotations

from engine.api import weights
from t2ipal_gui.dialogs.models import ModelManagerDialog
from t2ipal_gui.dialogs.preferences import PreferencesDialog
from t2ipal_gui.settings import Preferences
from tests.fake_hub import serve, tiny_diffusers_repo


def _rows(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_fetch_from_the_app_fills_the_cache_list(ctx, qtbot, tmp_path, monkeypatch):
    with serve({"org/tiny-sd": tiny_diffusers_repo()}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        dialog = ModelManagerDialog(ctx.runner, offline=False, cache_dir=str(tmp_path))
        qtbot.addWidget(dialog)
        assert _rows(dialog.table) == [] and dialog.empty.isVisibleTo(dialog)
        dialog.kind.setCurrentIndex(1)
        dialog.model.setText("org/tiny-sd")
        assert dialog.fetch_row.start.isEnabled()
        dialog.fetch_row.start.click()
        qtbot.waitUntil(lambda: dialog.job is not None and not dialog.job.is_running, timeout=30000)
    assert dialog.fetch_row.status.text() == "Done"
    assert _rows(dialog.table) == [["org/tiny-sd", "Text-to-image", "0.1 MB", "4"]]
    assert "Fetched text-to-image model org/tiny-sd" in dialog.notice.text()
    assert [m.repo_id for m in weights.list_cached_models(str(tmp_path))] == ["org/tiny-sd"]


def test_never_download_disables_fetching_with_the_reason(ctx, qtbot, tmp_path):
    dialog = ModelManagerDialog(ctx.runner, offline=True, cache_dir=str(tmp_path))
    qtbot.addWidget(dialog)
    assert not dialog.fetch_row.start.isEnabled()
    assert "Never download" in dialog.notice.text() and "Untick it in Preferences" in dialog.notice.text()
    assert dialog.fetch() is None


def test_preferences_open_the_manager_with_the_box_as_ticked(ctx, qtbot, tmp_path):
    prefs = PreferencesDialog(Preferences(offline=True, cache_dir=str(tmp_path)), runner=ctx.runner)
    qtbot.addWidget(prefs)
    assert prefs.models_button.isVisibleTo(prefs)
    prefs.offline.setChecked(False)
    manager = prefs.show_models()
    assert manager is not None and manager.fetch_row.start.isEnabled()
    manager.close()
