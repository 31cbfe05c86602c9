"""`--labels` accepts a bundled name, a label-set file, a .txt file or 'a,b,c', and always gives a LabelSet."""

from __future__ import annotations

from engine.api import resolve_labels


def test_list_and_txt_keep_names_verbatim(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ls = resolve_labels("dog, traffic_light ,cat")
    assert ls.names == ["dog", "traffic_light", "cat"] and ls.prompt_names == ls.names
    txt = tmp_path / "mine.txt"
    txt.write_text("dog\n\nhot_dog\n", encoding="utf-8")
    assert resolve_labels(str(txt)).prompt_names == ["dog", "hot_dog"]


def test_bundled_and_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    voc = resolve_labels("voc2007")
    assert len(voc) == 20
    path = tmp_path / "set.json"
    voc.save(path)
    assert resolve_labels(str(path)).names == voc.names
