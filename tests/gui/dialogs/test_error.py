"""The error dialog: the message first in plain words, the fixing action, the traceback folded away."""

from __future__ import annotations

from engine.errors import DependencyMissing, InputError, ModelNotFound
from t2ipal_gui.dialogs.error import OPEN_MODEL_MANAGER, ErrorDialog


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:  # noqa: BLE001 - gives it a traceback
        return caught


def test_model_not_found_says_what_to_do_and_offers_the_model_manager(qtbot):
    opened = []
    dialog = ErrorDialog(actions={OPEN_MODEL_MANAGER: lambda: opened.append(True)})
    qtbot.addWidget(dialog)
    dialog.add_error(_raised(ModelNotFound("CLIP weights RN50/openai are not available offline")), context="Training")
    dialog.show()
    assert dialog.headline.text() == "Training: model weights are missing"
    assert "RN50/openai" in dialog.message.text() and "Never download" in dialog.message.text()
    assert "bug" not in dialog.message.text().lower()
    assert dialog.message.isVisible() and not dialog.details.isVisible()
    assert "Traceback" in dialog.details.toPlainText()
    assert dialog.action_button.isVisible() and dialog.action_button.text() == OPEN_MODEL_MANAGER
    # the buttons sit below the message, never over it
    assert dialog.buttons.geometry().top() >= dialog.message.geometry().bottom()
    dialog.action_button.click()
    assert opened == [True] and not dialog.isVisible()


def test_details_unfold_on_request(qtbot):
    dialog = ErrorDialog()
    qtbot.addWidget(dialog)
    dialog.add_error(_raised(RuntimeError("boom")))
    dialog.show()
    assert not dialog.details.isVisible()
    dialog.toggle.click()
    assert dialog.details.isVisible()
    assert dialog.buttons.geometry().top() >= dialog.details.geometry().bottom()


def test_expected_conditions_never_say_bug(qtbot):
    dialog = ErrorDialog()
    qtbot.addWidget(dialog)
    for exc, headline in ((InputError("the label 'car' cannot be spelled"), "Please check the input"),
                          (DependencyMissing("install the [sd] extra"), "A component is not installed")):
        dialog.add_error(_raised(exc))
        assert dialog.headline.text().startswith(headline)
        assert "bug" not in dialog.message.text().lower()
        assert not dialog.action_button.isVisibleTo(dialog)


def test_an_unexpected_error_is_called_a_bug(qtbot):
    dialog = ErrorDialog()
    qtbot.addWidget(dialog)
    dialog.add_error(_raised(IndexError("list index out of range")))
    assert dialog.headline.text() == "Unexpected error (IndexError)"
    assert "probably a bug" in dialog.message.text()
