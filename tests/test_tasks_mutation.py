"""tasks.py's mutation job: the specs point at real files, and the score counts what it says it counts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import tasks  # noqa: E402


def test_every_spec_names_a_real_module_and_real_tests() -> None:
    specs = tasks.mutation_specs()
    assert "engine/tagging/store.py" in specs and len(specs) >= 9
    for module, spec in specs.items():
        assert (ROOT / module).is_file(), module
        assert spec["tests"], module
        for test in spec["tests"]:
            assert (ROOT / test.split("::")[0]).exists(), f"{module}: {test}"
        reasons = {**spec.get("equivalent", {}), **spec.get("harmless", {})}
        assert all(isinstance(why, str) and len(why) > 10 for why in reasons.values()), module


def test_score_leaves_out_equivalent_survivors_and_counts_harmless_ones_as_alive(tmp_path: Path) -> None:
    module = "engine/tagging/query.py"
    codes = {"engine.tagging.query.x_f__mutmut_1": 1, "engine.tagging.query.x_f__mutmut_2": 0,
             "engine.tagging.query.x_f__mutmut_3": 0, "engine.tagging.query.x_f__mutmut_4": 0,
             "engine.tagging.query.x_f__mutmut_5": 36, "engine.tagging.query.x_f__mutmut_6": 33}
    meta = tmp_path / "mutants" / (module + ".meta")
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    spec = {"module": module, "equivalent": {"x_f__mutmut_2": "same", "x_f__mutmut_5": "listed, killed now"},
            "harmless": {"x_f__mutmut_3": "invisible"}}
    score = tasks.mutation_score(tmp_path, spec, [])
    assert (score["killed"], score["total"], score["equivalent"], score["harmless"]) == (2, 6, 1, 1)
    assert score["unexplained"] == ["x_f__mutmut_4", "x_f__mutmut_6"]  # 33: no test reached it
    assert score["stale"] == ["x_f__mutmut_5"]
    assert score["score"] == pytest.approx(100 * 2 / 5)
    sampled = tasks.mutation_score(tmp_path, spec, ["engine.tagging.query.x_f__mutmut_1",
                                                    "engine.tagging.query.x_f__mutmut_2"])
    assert (sampled["total"], sampled["score"]) == (2, 100.0)
