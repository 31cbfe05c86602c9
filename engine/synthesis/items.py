"""Caption items the synthesis core takes: plain text + labels, independent of the caption store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.errors import InputError
from engine.hashing import caption_key


@dataclass(frozen=True)
class CaptionItem:
    """A caption to render: its text, its labels (names), and an optional store id."""

    text: str
    labels: tuple[str, ...] = ()
    id: str | None = None

    @property
    def key(self) -> str:
        return caption_key(self.text)


def as_caption_items(objs: Iterable[Any]) -> list[CaptionItem]:
    """Strings, dicts or objects with `.text` (and optionally `.labels`, `.id`) -> CaptionItems.

    Labels may be names or objects with a `.name`. Empty captions raise `InputError`.
    """
    out: list[CaptionItem] = []
    for n, obj in enumerate(objs):
        if isinstance(obj, CaptionItem):
            item = obj
        elif isinstance(obj, str):
            item = CaptionItem(obj)
        else:
            get = obj.get if isinstance(obj, dict) else lambda k, o=obj: getattr(o, k, None)
            text = get("text")
            if not isinstance(text, str):
                raise InputError(f"caption #{n + 1} has no text (got {type(obj).__name__})")
            labels = tuple(_label_name(x) for x in (get("labels") or ()))
            ident = get("id")
            item = CaptionItem(text, labels, None if ident is None else str(ident))
        if not item.text.strip():
            raise InputError(f"caption #{n + 1} is empty; remove it or write some text")
        out.append(item)
    return out


def _label_name(label: Any) -> str:
    name = getattr(label, "name", label)
    return str(name)
