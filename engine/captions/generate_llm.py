"""Optional caption generator driving a local causal language model (transformers) from a model folder, offline."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from engine.captions.generate import GeneratedCaption, _plans, compose
from engine.errors import DependencyMissing, ModelNotFound
from engine.labels.labelset import LabelSet
from engine.labels.noun_filter import NounFilter
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel

log = logging.getLogger(__name__)

PROMPT = (
    "Write one short, natural photo caption.\n"
    "Caption: A dog running across a sandy beach at sunset.\n"
    "Caption: Two people riding bicycles down a busy city street.\n"
    "Caption: {prefix}"
)


def generate_with_model(
    labelset: LabelSet,
    model_dir: str | Path,
    target_per_label: int,
    seed: int = 0,
    existing_counts: Mapping[str, int] | None = None,
    *,
    max_labels: int = 3,
    max_new_tokens: int = 24,
    temperature: float = 0.9,
    device: str = "cpu",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> list[GeneratedCaption]:
    """Like `generate_captions`, but a local language model finishes each caption (the paper's LLM-caption variant).

    Each caption starts from a short seeded opening that names the labels ("Two dogs and a bicycle"), and the
    model writes the rest. The noun filter then labels the result; captions that lost an intended label are
    dropped. Nothing is downloaded: `model_dir` is a folder saved with `save_pretrained` (needs the `llm` extra).
    """
    try:
        from engine import torch_ready

        torch_ready()  # makes torchvision importable beside CPU torch, which transformers' model modules touch
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise DependencyMissing(
            f"LLM caption generation needs transformers and torch ({exc}); "
            "install with pip install 't2ipal-tagger[llm]'"
        ) from exc
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise ModelNotFound(
            f"{model_dir} is not a saved language-model folder (no config.json); point --model at a folder made with "
            "save_pretrained (e.g. a local copy of a small instruction-tuned model)"
        )
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), local_files_only=True).to(device).eval()  # type: ignore[arg-type]
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    nf = NounFilter(labelset)
    names = labelset.names
    out: list[GeneratedCaption] = []
    seen: set[str] = set()
    generator = torch.Generator(device=device).manual_seed(seed)
    reporter = ProgressReporter(progress, "generate captions (LLM)", None)
    for bal, combo, rng in _plans(labelset, target_per_label, existing_counts, seed, max_labels, None):
        check_cancel(cancel)
        prefix = compose([labelset.labels[i] for i in combo], rng, with_setting=False)
        ids = tokenizer(PROMPT.format(prefix=prefix), return_tensors="pt").to(device)
        with torch.no_grad():
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
            gen = model.generate(
                **ids,
                do_sample=True,
                temperature=temperature,
                top_p=0.95,
                max_new_tokens=max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
            )
        tail = tokenizer.decode(gen[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
        text = _finish(prefix, tail)  # type: ignore[arg-type]
        found = nf.labels_of(text)
        if not set(combo) <= set(found) or text.lower() in seen:
            continue
        seen.add(text.lower())
        out.append(GeneratedCaption(text, [names[i] for i in found]))
        bal.record(found)
        reporter.advance()
    log.info("generated %d captions with the model in %s", len(out), model_dir)
    return out


def _finish(prefix: str, tail: str) -> str:
    """Prefix plus the model's words up to the end of the first sentence or line."""
    tail = tail.split("\n", 1)[0]
    for stop in (". ", "Caption:"):
        tail = tail.split(stop, 1)[0]
    text = " ".join(f"{prefix} {tail}".split()).strip(" .")
    return text + "."
