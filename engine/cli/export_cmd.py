"""`t2ipal export --project DIR` (or `MODEL_DIR -o model.onnx`): one ONNX file with metadata inside, parity-checked."""

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
    p.add_argument("model_dir", metavar="MODEL_DIR", nargs="?",
                   help="a trained model folder (config.json, ...), for export without a project")
    p.add_argument("-o", "--output", metavar="model.onnx", help="ONNX file to write (with MODEL_DIR)")
    p.add_argument("--project", "-p", metavar="DIR",
                   help="export the project's trained model to DIR/exports/model.onnx; tagging then uses it")
    p.add_argument("--device", default="cpu", help="device to trace on (default cpu)")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--tolerance", type=float, default=None, help="max |torch - onnxruntime| allowed (default 1e-4)")
    p.add_argument("--quantize", choices=("none", "int8"), default="none",
                   help="also write an int8 copy (model.int8.onnx; faster on CPU, see docs/performance.md), "
                   "calibrated on the project's synthetic images or --calibration; with --project tagging uses it")
    p.add_argument("--calibration", metavar="DIR", action="append", default=[],
                   help="images (files or folders) to calibrate int8 on, with MODEL_DIR (repeatable)")
    p.add_argument("--trust-unverified", action="store_true",
                   help="export a model folder whose config.json records no weights checksum")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from engine import api
    from engine.errors import InputError

    if (args.project is None) == (args.model_dir is None):
        raise InputError("give --project DIR, or MODEL_DIR -o model.onnx")
    if args.project is not None:
        if args.output:
            raise InputError("with --project the model is written to the project (exports/model.onnx); drop -o")
        result = api.export(api.open_project(args.project), device=args.device, opset=args.opset,
                            tolerance=args.tolerance, quantize=args.quantize)
    else:
        if not args.output:
            raise InputError("say where to write the model: MODEL_DIR -o model.onnx")
        result = api.export_folder(args.model_dir, args.output, device=args.device, opset=args.opset,
                                   tolerance=args.tolerance, trust_unverified=args.trust_unverified,
                                   quantize=args.quantize, calibration=args.calibration)
    meta = result.metadata
    delta = max(result.max_abs_diff_scores, result.max_abs_diff_heatmaps)
    print(
        f"wrote {result.path} ({result.size_bytes / 1e6:.1f} MB): {len(meta.labels)} labels, "
        f"input {meta.preprocess.size}px, parity max |Δ| {delta:.2e}",
        file=sys.stderr,
    )
    if result.quantized is not None:
        q = result.quantized
        print(f"wrote {q.path} ({q.size_bytes / 1e6:.1f} MB, int8): max |Δscore| {q.max_abs_diff_scores:.4f} "
              f"on {q.calibration_images} calibration images", file=sys.stderr)
    return 0
