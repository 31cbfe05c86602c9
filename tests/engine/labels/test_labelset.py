"""Label-set parsing, validation errors, hierarchy, translations, bundled sets and round trips."""

from __future__ import annotations

import json

import pytest

from engine.errors import InputError
from engine.labels.labelset import Label, LabelSet


def _set(labels, name="t"):
    return LabelSet.from_dict({"name": name, "labels": labels})


def test_from_names_and_views():
    ls = LabelSet.from_names(["dog", "dining_table", "Animals|cat"])
    assert ls.names == ["dog", "dining_table", "cat"]
    assert ls.prompt_names == ["dog", "dining table", "cat"]
    assert ls.parents == {"dog": None, "dining_table": None, "cat": "Animals"}
    assert ls.path("cat") == "Animals|cat"
    assert ls.index("CAT") == 2


def test_full_label_fields_round_trip(tmp_path):
    data = {
        "name": "pets",
        "labels": [
            {"name": "animal"},
            {"name": "dog", "synonyms": ["puppy", "golden retriever"], "parent": "animal",
             "translations": {"de": "Hund"}, "not_this": ["hot dog"]},
            {"name": "diningtable", "prompt": "dining table", "synonyms": ["table"]},
        ],
    }
    ls = LabelSet.from_dict(data)
    assert ls.get("puppy").name == "dog"
    assert ls.ancestors("dog") == ["animal"]
    assert ls.path("dog") == "animal|dog"
    assert ls.translated("de") == ["animal", "Hund", "diningtable"]
    assert ls.prompt_names[2] == "dining table"
    path = tmp_path / "pets.json"
    ls.save(path)
    again = LabelSet.from_file(path)
    assert again == ls and again.fingerprint() == ls.fingerprint()
    ypath = tmp_path / "pets.yaml"
    ls.save(ypath)
    assert LabelSet.from_file(ypath).to_dict() == ls.to_dict()


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([{"name": ""}], "empty name"),
        ([{"name": "dog"}, {"name": "Dog"}], "duplicate label name"),
        ([{"name": "dog", "synonyms": ["puppy"]}, {"name": "cat", "synonyms": ["puppies"]}],
         "also claimed by label 'dog'"),
        ([{"name": "a", "parent": "b"}, {"name": "b", "parent": "c"}, {"name": "c", "parent": "a"}], "cycle"),
        ([{"name": "a", "parent": "a"}], "cycle in the hierarchy: a -> a"),
        ([{"name": "dog", "not_this": ["paper airplane"]}], "would never apply"),
        ([{"name": "dog", "synonyms": ["!!"]}], "has no words"),
        ([{"name": "dog", "colour": "brown"}], "unknown key 'colour'"),
        ([{"name": "dog", "synonyms": [1]}], "list of strings"),
    ],
)
def test_validation_errors(labels, message):
    with pytest.raises(InputError, match=message):
        _set(labels)


def test_all_problems_are_listed_together():
    with pytest.raises(InputError) as info:
        _set([{"name": "dog"}, {"name": "dog"}, {"name": "x", "parent": "x"}])
    text = str(info.value)
    assert "duplicate label name" in text and "cycle" in text


def test_file_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"labels": [\n {"name": "dog"},\n {"name": }\n]}')
    with pytest.raises(InputError, match=r"bad\.json: line 3"):
        LabelSet.from_file(bad)
    empty = tmp_path / "empty.json"
    empty.write_text("  ")
    with pytest.raises(InputError, match="empty"):
        LabelSet.from_file(empty)
    with pytest.raises(InputError, match="not found"):
        LabelSet.from_file(tmp_path / "missing.json")
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"labels": ["caf\xe9"]}'.encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        LabelSet.from_file(latin)
    yml = tmp_path / "bad.yaml"
    yml.write_text("labels:\n  - name: dog\n   - oops: [\n")
    with pytest.raises(InputError, match=r"bad\.yaml: line"):
        LabelSet.from_file(yml)


def test_label_is_hashable_and_frozen():
    lb = Label("dog", ("puppy",))
    assert hash(lb) == hash(Label("dog", ("puppy",)))
    with pytest.raises(AttributeError):
        lb.name = "cat"  # type: ignore[misc]


@pytest.mark.parametrize(("name", "count"), [("voc2007", 20), ("coco", 80), ("nuswide", 81)])
def test_bundled_benchmark_sets(name, count):
    ls = LabelSet.bundled(name)
    assert len(ls) == count and len(set(ls.names)) == count
    assert sum(len(lb.synonyms) for lb in ls.labels) > 2 * count  # thorough synonym lists


def test_bundled_listing_and_starters():
    names = LabelSet.list_bundled()
    assert {"voc2007", "coco", "nuswide", "outdoors", "family_events", "travel"} <= set(names)
    outdoors = LabelSet.bundled("outdoors")
    assert outdoors.path("dog") == "Animals|animal|dog"
    assert outdoors.get("dog").translations["de"] == "Hund"
    assert LabelSet.bundled("VOC").name == "voc2007"
    with pytest.raises(InputError, match="no bundled label set"):
        LabelSet.bundled("nope")


def test_bundled_voc_prompt_names_are_readable():
    voc = LabelSet.bundled("voc2007")
    assert "diningtable" in voc.names and "dining table" in voc.prompt_names
    assert json.loads(voc.to_json())["labels"][0]["name"] == "aeroplane"


@pytest.mark.parametrize("bad", ["a;b", "nul\x00here", "tab\there", "bell\x07", "line\nbreak"])
def test_label_names_with_separators_or_control_characters_are_invalid(bad: str) -> None:
    with pytest.raises(InputError, match="cannot contain"):
        LabelSet.from_names(["ok", bad])


def test_deeply_nested_label_json_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"name": "x", "labels": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(InputError, match="nested too deeply"):
        LabelSet.from_file(path)


def test_validation_of_a_long_hierarchy_chain_and_the_cli_summary_are_linear(tmp_path, capsys) -> None:
    """20k labels in one parent chain: the cycle check walked each chain again (cubic; minutes before the fix)."""
    import json

    from engine.cli.main import main

    n = 20_000
    labels = [{"name": f"label {i}", "parent": f"label {i - 1}" if i else None} for i in range(n)]
    path = tmp_path / "chain.json"
    path.write_text(json.dumps({"name": "chain", "labels": labels}))
    assert main(["labels", "validate", str(path)]) == 0
    assert f"{n} labels" in capsys.readouterr().out and LabelSet.from_file(path).group_count() == 1
