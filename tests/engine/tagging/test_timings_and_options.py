"""A run reports the CPU time of each step; onnxruntime sessions get the measured options."""

from __future__ import annotations

from pathlib import Path

from engine.tagging.runner import RUN_TIMINGS, TagConfig, tag_folders
from tests.engine.tagging.conftest import make_folder


def test_run_reports_cpu_time_of_every_step(tiny_model: Path, tmp_path: Path) -> None:
    make_folder(tmp_path / "photos", 7)
    result = tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db", TagConfig(batch_size=3))
    t = result.timings
    assert set(t) == set(RUN_TIMINGS)
    for step in ("decode_cpu_s", "preprocess_cpu_s", "infer_s", "write_s", "process_cpu_s"):
        assert t[step] > 0, step
    # the steps' CPU time is part of the process's, never more
    assert t["decode_cpu_s"] + t["preprocess_cpu_s"] + t["write_cpu_s"] <= t["process_cpu_s"]
    again = tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db", TagConfig(batch_size=3))
    assert again.skipped == 7 and again.timings["decode_cpu_s"] == 0  # nothing decoded when nothing changed


def test_session_options_threads_sleep_unless_asked(tiny_model: Path) -> None:
    import onnxruntime as ort

    from engine.tagging import onnx_session

    options = onnx_session.session_options(ort, threads=2, spinning=False)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.intra_op_num_threads == 2 and options.inter_op_num_threads == 1
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert onnx_session.session_options(ort, 0, True).get_session_config_entry(
        "session.intra_op.allow_spinning") == "1"
    session = onnx_session.TaggerSession(tiny_model, provider="cpu", threads=1)
    assert session.session.get_session_options().get_session_config_entry(
        "session.intra_op.allow_spinning") == "0"
