"""Preferences: model ids or folders, cache location, device, offline mode, theme."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.clip.config import DEFAULT_BACKBONE
from t2ipal_gui.dialogs.models import ModelManagerDialog
from t2ipal_gui.settings import DEVICES, THEMES, Preferences
from t2ipal_gui.workers import JobRunner


def _with_browse(edit: QLineEdit, title: str) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    button = QPushButton("Browse…")

    def _pick() -> None:
        folder = QFileDialog.getExistingDirectory(box, title, edit.text())
        if folder:
            edit.setText(folder)

    button.clicked.connect(_pick)
    row.addWidget(button)
    return box


class PreferencesDialog(QDialog):
    def __init__(self, prefs: Preferences, parent: QWidget | None = None, runner: JobRunner | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.setWindowTitle("Preferences")
        self.setMinimumWidth(560)
        self.synthesis_model = QLineEdit(prefs.synthesis_model)
        self.synthesis_model.setPlaceholderText("hub id, e.g. stable-diffusion-v1-5/stable-diffusion-v1-5, or a folder")
        self.clip_model = QLineEdit(prefs.clip_model)
        self.clip_pretrained = QLineEdit(prefs.clip_pretrained)
        self.clip_pretrained.setPlaceholderText("openai, a weights folder, local-dir:… or hf-hub:…")
        self.cache_dir = QLineEdit(prefs.cache_dir)
        self.cache_dir.setPlaceholderText("default: the Hugging Face cache")
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.device.setCurrentText(prefs.device)
        self.offline = QCheckBox("Never download (use only cached or local models)")
        self.offline.setChecked(prefs.offline)
        self.theme = QComboBox()
        self.theme.addItems(THEMES)
        self.theme.setCurrentText(prefs.theme)
        form = QFormLayout()
        form.addRow("Text-to-image model:", _with_browse(self.synthesis_model, "Diffusers model folder"))
        form.addRow("CLIP model:", self.clip_model)
        form.addRow("CLIP weights:", _with_browse(self.clip_pretrained, "CLIP weights folder"))
        form.addRow("Model cache:", _with_browse(self.cache_dir, "Model cache folder"))
        form.addRow("Device:", self.device)
        self.models_button = QPushButton("Manage Models…")
        self.models_button.setObjectName("manageModels")
        self.models_button.setToolTip("See the CLIP and text-to-image models on this computer, fetch more")
        self.models_button.clicked.connect(self.show_models)
        self.models_button.setVisible(runner is not None)
        offline_row = QWidget()
        line = QHBoxLayout(offline_row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.offline, 1)
        line.addWidget(self.models_button)
        form.addRow("Downloads:", offline_row)
        form.addRow("Theme:", self.theme)
        note = QLabel("“system” follows your desktop’s light or dark scheme.")
        note.setProperty("role", "subtitle")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def show_models(self) -> ModelManagerDialog | None:
        """The model manager, honouring the “Never download” box as it is ticked right now."""
        if self.runner is None:
            return None
        dialog = ModelManagerDialog(self.runner, offline=self.offline.isChecked(),
                                    cache_dir=self.cache_dir.text().strip(), parent=self)
        dialog.open()
        return dialog

    def preferences(self) -> Preferences:
        return Preferences(
            synthesis_model=self.synthesis_model.text().strip(),
            clip_model=self.clip_model.text().strip() or DEFAULT_BACKBONE,
            clip_pretrained=self.clip_pretrained.text().strip(),
            cache_dir=self.cache_dir.text().strip(),
            device=self.device.currentText(),
            offline=self.offline.isChecked(),
            theme=self.theme.currentText(),
        )
