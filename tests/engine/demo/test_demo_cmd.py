"""`t2ipal demo world` writes sample scenes, captions and the label set."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from engine.cli.main import main
from engine.demo import world


def test_demo_world_writes_images_captions_and_labelset(tmp_path: Path) -> None:
    assert main(["demo", "world", "--out", str(tmp_path), "-n", "2"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "captions.jsonl").read_text().splitlines()]
    assert [r["file"] for r in rows] == ["photo_0000.png", "photo_0001.png", "synthetic_0000.png", "synthetic_0001.png"]
    for row in rows:
        with Image.open(tmp_path / row["file"]) as img:
            assert img.size == (world.IMAGE_SIZE, world.IMAGE_SIZE)
        names = [world.CLASS_NAMES[c] for c in sorted(set(world.caption_classes(row["caption"])))]
        assert names == row["labels"]
    assert json.loads((tmp_path / "labelset.json").read_text()) == world.demo_labelset_dict()


def test_demo_without_subcommand_prints_help() -> None:
    assert main(["demo"]) == 2
