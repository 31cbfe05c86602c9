"""Tag photo folders into the project's database with the project's own exported model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.api.models import exported_model, model_status
from engine.errors import InputError
from engine.progress import CancelToken, ProgressCallback
from engine.project import Project


def check_labels_before_tagging(project: Project) -> None:
    """Refuse, before any file is read, a model whose labels differ from the project's or its tag database's."""
    from engine.tagging.store import TagStore

    status = model_status(project)
    if not status.labels_match:
        raise InputError("the label set changed since the model was trained; retrain and export before tagging")
    with TagStore(project.open_db()) as store:
        store.check_labels(status.record.labels, model=f"the model of project {project.root}")


def tag(
    project: Project,
    folders: Sequence[str | Path],
    config: Any = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Tag `folders` with the project's exported model into the project database (resumable, incremental).

    `config` is an `engine.tagging.runner.TagConfig`.
    """
    from engine.tagging.runner import tag_folders

    if not folders:
        raise InputError("add at least one folder to tag")
    model, checksum = exported_model(project)
    check_labels_before_tagging(project)
    return tag_folders(list(folders), model, project.db_path, config, onnx_sha256=checksum,
                       progress=progress, cancel=cancel)


def tag_with_model(
    model: str | Path,
    db: str | Path,
    folders: Sequence[str | Path],
    config: Any = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Tag `folders` with any exported ONNX model into any tag database (no project needed).

    The model must match the checksum its export wrote beside it (`model.onnx.sha256`) unless
    `config.trust_unverified` is set.
    """
    from engine.tagging.runner import tag_folders

    return tag_folders(list(folders), model, db, config, progress=progress, cancel=cancel)


def tag_on_ray(
    project: Project | None,
    sources: Sequence[str | Path],
    config: Any = None,
    ray_config: Any = None,
    *,
    model: str | Path | None = None,
    db: str | Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Tag folders, files or URIs (s3://, gs://, file://...) on a Ray cluster into one tag database.

    With a project: its exported model into its database (as `tag`). Without one (None): `model` and `db`.
    `config` is a `TagConfig`, `ray_config` an `engine.cluster.config.RayConfig` (address, actors, GPUs).
    """
    from engine.cluster.connect import import_ray
    from engine.cluster.ray_tag import tag_on_ray as run_on_ray

    if not sources:
        raise InputError("add at least one folder or URI to tag")
    import_ray()  # says which extra to install before anything else is checked
    if project is not None:
        if model is not None or db is not None:
            raise InputError("a project tags with its own model into its own database; drop the model and db")
        path, checksum = exported_model(project)
        check_labels_before_tagging(project)
        model, db = path, project.db_path
    elif model is None or db is None:
        raise InputError("without a project, give both an exported model (.onnx) and a tag database")
    else:
        checksum = None  # the export's sidecar, as for `tag_with_model`
    return run_on_ray(list(sources), model, db, config, ray_config, progress=progress, cancel=cancel,
                      onnx_sha256=checksum)
