"""`t2ipal export MODEL_DIR -o model.onnx`: one ONNX file with metadata inside, parity-checked."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="export a trained model folder to ONNX for tagging",
        description="Write one ONNX file (images -> scores, heatmaps) with labels, thresholds and preprocessing "
        "inside. The file is written only if onnxruntime matches torch within the tolerance.",
    )
    p.add_argument("model_dir", metavar="MODEL_DIR", help="model folder written by training (config.json, ...)")
    p.add_argument("-o", "--output", required=True, metavar="model.onnx")
    p.add_argument("--device", default="cpu", help="device to trace on (default cpu)")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--tolerance", type=float, default=None, help="max |torch - onnxruntime| allowed (default 1e-4)")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from engine.export.onnx_export import DEFAULT_TOLERANCE, export_onnx

    result = export_onnx(
        args.model_dir, args.output, device=args.device, opset=args.opset,
        tolerance=args.tolerance if args.tolerance is not None else DEFAULT_TOLERANCE,
    )
    meta = result.metadata
    delta = max(result.max_abs_diff_scores, result.max_abs_diff_heatmaps)
    print(
        f"wrote {result.path} ({result.size_bytes / 1e6:.1f} MB): {len(meta.labels)} labels, "
        f"input {meta.preprocess.size}px, parity max |Δ| {delta:.2e}",
        file=sys.stderr,
    )
    return 0
