"""Projects and their label set: create, open, and the one place a project's labels are read or stored."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.errors import InputError
from engine.labels.labelset import LabelSet
from engine.project import Project, project_at


def create_project(path: str | Path, *, labels: LabelSet | None = None, replace_labels: bool = False) -> Project:
    """Create (or reuse) a project folder; store `labels` as its label set when given."""
    project = project_at(path)
    if project.root.exists() and not project.root.is_dir():
        raise InputError(f"{project.root} is a file, not a folder; choose another project location")
    project.create()
    with project.db():
        pass  # creates and migrates the database
    if labels is not None:
        current = _stored_labels(project)
        if current is not None and current.to_dict() != labels.to_dict() and not replace_labels:
            raise InputError(
                f"{project.root} already has the label set {current.name!r} ({len(current)} labels); "
                "pass --replace-labels to replace it (captions and models of the old set stay on disk)"
            )
        save_labels(project, labels)
    return project


def open_project(path: str | Path) -> Project:
    """An existing project folder (its database is created and migrated if it is missing)."""
    project = project_at(path)
    if not project.root.is_dir():
        raise InputError(
            f"project folder {project.root} does not exist; create it with `t2ipal init {path} --labels LABELS` "
            "or File → New Project in the app"
        )
    with project.db():
        pass
    return project


def resolve_labels(spec: str) -> LabelSet:
    """A bundled label-set name, a label-set file (.json/.yaml), a .txt file (one per line) or 'a,b,c'.

    Names from a .txt file or a list are used verbatim in prompts (no "_" -> " " rewording).
    """
    path = Path(spec)
    if path.suffix.lower() == ".txt" and path.is_file():
        names = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        return _verbatim(names, path.stem)
    if "," in spec and not path.exists():
        return _verbatim([s.strip() for s in spec.split(",") if s.strip()], "custom")
    return LabelSet.resolve(spec)


def _verbatim(names: list[str], name: str) -> LabelSet:
    labels = [{"name": n, "prompt": n} if "_" in n else {"name": n} for n in names]
    return LabelSet.from_dict({"name": name, "labels": labels}, source=name)


def _stored_labels(project: Project) -> LabelSet | None:
    return LabelSet.from_file(project.labelset_path) if project.labelset_path.exists() else None


def load_labels(project: Project) -> LabelSet:
    """The project's label set; a clear error saying how to add one when it has none."""
    labels = _stored_labels(project)
    if labels is None:
        raise InputError(
            f"project {project.root} has no label set yet; add one with `t2ipal init {project.root} --labels "
            "LABELS` or in the app's Labels panel"
        )
    return labels


def save_labels(project: Project, labels: LabelSet) -> Path:
    """Store the label set in the project folder and register it with the caption store."""
    from engine.captions.store import CaptionStore

    project.create()
    path = labels.save(project.labelset_path)
    with project.db() as db:
        CaptionStore(db).add_labelset(labels)
    return path


def tag_folders(project: Project) -> list[Path]:
    """The photo folders the project tags (remembered across restarts; relative inside the project folder)."""
    return project.paths_state("tag_folders")


def set_tag_folders(project: Project, folders: Sequence[str | Path]) -> None:
    project.set_paths_state("tag_folders", list(folders))
