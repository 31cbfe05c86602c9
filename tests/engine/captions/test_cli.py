"""`t2ipal labels ...` and `t2ipal captions ...` end to end on tiny files."""

from __future__ import annotations

import json

from engine.cli.main import main


def test_labels_validate_show_list(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"labels": [{"name": "dog", "parent": "Animals"}, "cat"]}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"labels": ["dog", "dog"]}))
    assert main(["labels", "validate", str(good), "coco"]) == 0
    out = capsys.readouterr().out
    assert "ok:" in out and "2 labels" in out and "80 labels" in out
    assert main(["labels", "validate", str(bad)]) == 1
    assert "duplicate label name 'dog'" in capsys.readouterr().err
    assert main(["labels", "show", "outdoors", "--lang", "de"]) == 0
    out = capsys.readouterr().out
    assert "Animals|animal|dog" in out and "[de: Hund]" in out and "not this: hot dog" in out
    assert main(["labels", "show", str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["labels"][0] == {"name": "dog", "parent": "Animals"}
    assert main(["labels", "list"]) == 0
    assert "nuswide" in capsys.readouterr().out


def test_captions_import_generate_stats(tmp_path, capsys):
    from .conftest import write_coco

    project = tmp_path / "proj"
    coco = write_coco(tmp_path / "caps.json")
    labels = tmp_path / "pets.json"
    labels.write_text(json.dumps({"name": "pets", "labels": ["dog", "cat", {"name": "person", "synonyms": ["man"]}]}))
    args = ["--project", str(project), "--labels", str(labels)]
    assert main(["captions", "import", str(coco), *args, "--no-progress", "--min-count", "3"]) == 0
    captured = capsys.readouterr()
    assert "added 4" in captured.out and "fewer than 3 captions" in captured.err
    assert main(["captions", "import", str(coco), *args, "--no-progress"]) == 0
    assert "added 0" in capsys.readouterr().out
    # the project stored the label set: later commands need only --project
    pargs = ["--project", str(project)]
    assert main(["captions", "generate", *pargs, "--target", "5", "--seed", "1"]) == 0
    assert "generated" in capsys.readouterr().out
    assert main(["captions", "stats", *pargs, "--json", "--min-count", "5"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert all(v >= 5 for v in stats["per_label"].values()) and stats["thin_labels"] == []
    assert set(stats["per_source"]) == {"caps.json", "generated:template:seed1"}
    out_csv = tmp_path / "gen.csv"
    assert main(["captions", "generate", *pargs, "--target", "2", "--out", str(out_csv)]) == 0
    assert out_csv.read_text().startswith("caption,labels\n")


def test_captions_import_bad_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"caption": "a dog"}\n{oops}\n')
    assert main(["captions", "import", str(bad), "-p", str(tmp_path / "p"), "-l", "coco", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "bad.jsonl: line 2" in err and "malformed JSON" in err
