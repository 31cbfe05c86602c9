"""GPU check: images/s of the synthesis loop on a random-init SD-1.5-sized pipeline, and ORT CUDA on a random RN50.

Nothing is downloaded (every model is built from configs). Exits 0 with a message where there is no CUDA GPU.
Usage: python bench/gpu_check.py [--steps 20] [--size 512] [--batch-sizes 1,4,8] [--images 16] [--skip-ort]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def sd15_pipeline(dtype):  # type: ignore[no-untyped-def]
    """Random-init pipeline with SD 1.5's UNet/VAE/text-encoder shapes (byte tokenizer; no download)."""
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from engine.synthesis.tiny import _byte_vocab, assemble_pipeline

    work = Path(tempfile.mkdtemp())
    vocab, merges = _byte_vocab(work)
    tok = CLIPTokenizer(str(vocab), str(merges), model_max_length=77)
    n = len(tok)
    te = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=n,
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            max_position_embeddings=77,
            bos_token_id=n - 2,
            eos_token_id=n - 1,
            pad_token_id=n - 1,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=64,
        cross_attention_dim=768,
        attention_head_dim=8,
        layers_per_block=2,
        block_out_channels=(320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    )
    vae = AutoencoderKL(
        block_out_channels=(128, 256, 512, 512),
        layers_per_block=2,
        latent_channels=4,
        sample_size=512,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
    )
    sched = PNDMScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, skip_prk_steps=True, steps_offset=1
    )
    pipe = assemble_pipeline(vae, te, tok, unet, sched)
    print(f"UNet parameters: {sum(p.numel() for p in unet.parameters()) / 1e6:.0f} M (SD 1.5: 860 M)")
    return pipe.to(dtype=dtype)


def check_synthesis(args: argparse.Namespace) -> None:
    import torch

    from engine.project import Project
    from engine.synthesis import RenderRequest, SynthesisConfig, synthesize
    from engine.synthesis.diffusers_backend import DiffusersBackend, DiffusersConfig

    pipe = sd15_pipeline(torch.float16).to("cuda")
    cfg = DiffusersConfig(
        model="random-sd15", steps=args.steps, height=args.size, width=args.size, device="cuda", precision="fp16"
    )
    backend = DiffusersBackend(cfg, pipeline=pipe)
    pipe.set_progress_bar_config(disable=True)
    backend.render([RenderRequest("warm up", 0, 0)])
    print(
        f"\nsynthesis: SD-1.5-sized random UNet, {args.steps} steps, {args.size} px, CFG 7.5, fp16, "
        f"{torch.cuda.get_device_name(0)}"
    )
    print(f"{'batch':>5}  {'render img/s':>12}  {'synthesize img/s':>16}  {'peak GiB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for bs in (int(b) for b in args.batch_sizes.split(",")):
            torch.cuda.reset_peak_memory_stats()
            reqs = [RenderRequest(f"caption {i}", 0, i) for i in range(args.images)]
            torch.cuda.synchronize()
            t = time.perf_counter()
            for s in range(0, len(reqs), bs):
                backend.render(reqs[s : s + bs])
            torch.cuda.synchronize()
            rate = len(reqs) / (time.perf_counter() - t)
            items = [{"text": f"caption {i}", "labels": ["x"]} for i in range(args.images)]
            res = synthesize(items, backend, Project(Path(tmp) / f"p{bs}"), SynthesisConfig(batch_size=bs))
            peak = torch.cuda.max_memory_allocated() / 2**30
            print(f"{bs:>5}  {rate:>12.2f}  {res.images_per_second:>16.2f}  {peak:>8.1f}")
    est = backend.estimate_seconds_per_image()
    print(f"backend estimate: {est:.2f} s/image (compare with 1/images-per-second above)")


def check_onnxruntime(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    try:
        import onnxruntime as ort
    except ImportError:
        print("\nonnxruntime: not installed (pip install -e .[gpu]); skipped")
        return
    import open_clip

    model = open_clip.create_model("RN50", pretrained=None).visual.eval()
    path = Path(tempfile.mkdtemp()) / "rn50.onnx"
    torch.onnx.export(
        model,
        (torch.randn(2, 3, 224, 224),),
        str(path),
        dynamo=False,
        opset_version=17,
        input_names=["images"],
        output_names=["features"],
        dynamic_axes={"images": {0: "batch"}},
    )
    sess = ort.InferenceSession(str(path), providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    providers = sess.get_providers()
    print(f"\nonnxruntime {ort.__version__}: providers in use {providers}")
    if "CUDAExecutionProvider" not in providers:
        print("CUDA provider did not load (see the log above: CUDA/cuDNN libraries); CPU numbers would follow")
        return
    x = np.random.default_rng(0).standard_normal((args.ort_batch, 3, 224, 224)).astype(np.float32)
    sess.run(None, {"images": x})
    t, n = time.perf_counter(), 10
    for _ in range(n):
        sess.run(None, {"images": x})
    print(
        f"ORT CUDA, random RN50 image encoder, batch {args.ort_batch}, 224 px, fp32: "
        f"{n * args.ort_batch / (time.perf_counter() - t):.0f} images/s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--batch-sizes", default="1,4,8")
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--ort-batch", type=int, default=64)
    parser.add_argument("--skip-ort", action="store_true")
    args = parser.parse_args()

    import engine

    engine.torch_ready()
    import torch

    if not torch.cuda.is_available():
        print(f"no CUDA GPU visible to torch {torch.__version__}; nothing to check here (run this on a GPU machine)")
        return 0
    check_synthesis(args)
    if not args.skip_ort:
        check_onnxruntime(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
