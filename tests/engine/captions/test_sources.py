"""Streaming readers: every format, and clear errors (file + line) for bad input."""

from __future__ import annotations

import json

import pytest

from engine.captions import sources
from engine.captions.sources import detect_format, iter_captions
from engine.errors import InputError

from .conftest import COCO_CAPTIONS, write_coco


def test_coco_stream_reads_annotations_only(coco_file):
    caps = list(iter_captions(coco_file))
    assert [c.text for c in caps] == [" ".join(t.split()) for _, t in COCO_CAPTIONS]
    assert [c.key for c in caps] == ["1", "1", "2", "3", "3", "4"]
    lines = coco_file.read_text().splitlines()
    assert "Two dogs playing" in "\n".join(lines[caps[1].line - 1 : caps[1].line + 4])


def test_coco_stream_small_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "_CHUNK", 7)  # values straddle chunk boundaries, numbers included
    caps = [(i, f"caption number {i} with \\u00e9 and \"quotes\"") for i in range(50)]
    path = write_coco(tmp_path / "c.json", caps)
    got = list(iter_captions(path))
    assert len(got) == 50 and got[-1].key == "49" and got[3].text.startswith("caption number 3")


def test_narratives_text_csv(tmp_path):
    nar = tmp_path / "n.jsonl"
    nar.write_text("\n".join(json.dumps({"image_id": f"im{i}", "caption": f"In this image a dog {i}.",
                                         "traces": [[{"x": 0.1}]]}) for i in range(3)) + "\n\n")
    assert [c.key for c in iter_captions(nar)] == ["im0", "im1", "im2"]
    txt = tmp_path / "t.txt"
    txt.write_bytes(b"\xef\xbb\xbfa dog\r\n\r\n  a  cat  \n")
    assert [(c.text, c.line) for c in iter_captions(txt)] == [("a dog", 1), ("a cat", 3)]
    csv_path = tmp_path / "c.csv"
    csv_path.write_text('caption,labels\n"a dog, running",dog\nplain cat\n"multi\nline",dog;cat\n')
    got = list(iter_captions(csv_path))
    assert [(c.text, c.labels) for c in got] == [("a dog, running", ("dog",)), ("plain cat", None),
                                                 ("multi line", ("dog", "cat"))]


def test_detect_format():
    assert detect_format("x.JSON") == "coco" and detect_format("x.jsonl") == "narratives"
    assert detect_format("x.dat", "csv") == "csv"
    with pytest.raises(InputError, match="cannot tell"):
        detect_format("x.dat")
    with pytest.raises(InputError, match="unknown caption format"):
        detect_format("x.txt", "xml")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("e.txt", b"", "empty"),
        ("blank.txt", b"\n\n  \n", "no captions"),
        ("bad.txt", b"ok\nstill ok\ncaf\xe9\n", r"line 3: not UTF-8"),
        ("bad.jsonl", b'{"caption": "a"}\n{"caption": }\n', r"line 2 column 13: malformed JSON"),
        ("nofield.jsonl", b'{"caption": "a"}\n{"text": "b"}\n', r"line 2: missing field 'caption'"),
        ("notobj.jsonl", b'["a"]\n', r"line 1: expected a JSON object"),
        ("cols.csv", b"a,dog\nb,dog,cat\n", r"line 2: expected 'caption\[,labels\]'"),
        ("quote.csv", b'a\n"unterminated\n', r"malformed CSV|line"),
        ("bad.json", b'{"annotations": [\n{"caption": "a"},\n{"caption": "b"\n]}',
         r"line 4: malformed JSON: Expecting .,. delimiter"),
        ("trunc.json", b'{"annotations": [\n{"caption": "a"},', r"malformed JSON"),
        ("noann.json", b'{"images": []}', "no 'annotations' list"),
        ("arr.json", b'[1, 2]', "expected a JSON object"),
        ("annfield.json", b'{"annotations": [{"image_id": 1}]}', r"line 1: annotation has no 'caption'"),
        ("type.json", b'{"annotations": [{"caption": 5}]}', "must be a string"),
        ("enc.json", b'{"annotations": [{"caption": "caf\xe9"}]}', "not UTF-8"),
    ],
)
def test_bad_input(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        list(iter_captions(path))
    assert name in str(info.value)


def test_huge_lines(tmp_path, monkeypatch):
    path = tmp_path / "huge.txt"
    path.write_text("ok\n" + "x" * (sources.MAX_CAPTION_CHARS + 1) + "\n")
    with pytest.raises(InputError, match="line 2: caption is"):
        list(iter_captions(path))
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 100)
    path.write_text("ok\n" + "y" * 500 + "\n")
    with pytest.raises(InputError, match="line 2 is longer than"):
        list(iter_captions(path))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        list(iter_captions(tmp_path / "nope.txt"))
