"""The project API: the one door both front ends (GUI and CLI) use; plain functions over a `Project`."""

from __future__ import annotations

import engine.demo  # noqa: F401  - registers the demo renderer and tokenizer (numpy only, no torch)
from engine.api.captions import (
    add_captions,
    caption_stats,
    count_captions,
    delete_captions,
    generate_captions,
    import_captions,
    list_captions,
    restore_captions,
    update_caption,
)
from engine.api.evaluation import evaluate
from engine.api.models import (
    ModelStatus,
    explain,
    export,
    export_folder,
    exported_model,
    model_status,
    train,
    train_from_files,
)
from engine.api.projects import (
    create_project,
    load_labels,
    open_project,
    resolve_labels,
    save_labels,
    set_tag_folders,
    tag_folders,
)
from engine.api.review import (
    Decision,
    decide,
    export_tags,
    image_tags,
    label_counts,
    matching_images,
    query,
    tag_labels,
    tagged_count,
    undo,
)
from engine.api.synthesis import delete_synthetic, filter_synthetic, synthesize, synthetic_images, synthetic_path
from engine.api.tagging import tag, tag_with_model
from engine.tagging.filters import TagFilter

__all__ = [
    "Decision",
    "ModelStatus",
    "TagFilter",
    "add_captions",
    "caption_stats",
    "count_captions",
    "create_project",
    "decide",
    "delete_captions",
    "delete_synthetic",
    "evaluate",
    "explain",
    "export",
    "export_folder",
    "exported_model",
    "export_tags",
    "filter_synthetic",
    "generate_captions",
    "image_tags",
    "import_captions",
    "label_counts",
    "list_captions",
    "load_labels",
    "matching_images",
    "model_status",
    "open_project",
    "query",
    "resolve_labels",
    "restore_captions",
    "save_labels",
    "set_tag_folders",
    "synthesize",
    "synthetic_images",
    "synthetic_path",
    "tag",
    "tag_folders",
    "tag_labels",
    "tag_with_model",
    "tagged_count",
    "train",
    "train_from_files",
    "undo",
    "update_caption",
]
