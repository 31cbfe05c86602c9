"""About box: version, what the app does, and where its pieces come from."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from t2ipal_gui import __version__
from t2ipal_gui.resources import app_icon

TEXT = """<h2>T2I-PAL Tagger {version}</h2>
<p>Tag photo folders with your own labels. You write the label set; the app gathers captions,
synthesises images from them, trains T2I-PAL prompts and a prototype adapter on a frozen CLIP,
exports the model to ONNX and tags your folders into a local SQLite database.</p>
<p>No labelled photos needed, nothing leaves your computer.</p>
<p>Built on PySide6 (Qt), open_clip, diffusers and onnxruntime. MIT licence.</p>"""


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About T2I-PAL Tagger")
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(72, 72))
        icon.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        text = QLabel(TEXT.format(version=__version__))
        text.setWordWrap(True)
        text.setMinimumWidth(420)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(icon)
        layout.addWidget(text)
        layout.addWidget(buttons)
