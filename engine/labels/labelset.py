"""Label sets: names, synonyms, hierarchy, translations and "not this" phrases, loaded from JSON/YAML and validated."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.hashing import sha1_hex
from engine.labels.hierarchy import HIERARCHY_SEP, ancestors, keyword_path
from engine.labels.text import canonical_phrase, tokenize

FORMAT_VERSION = 1
_LABEL_KEYS = {"name", "synonyms", "parent", "translations", "not_this", "prompt", "description"}
_SET_KEYS = {"name", "description", "language", "version", "labels", "source", "training_defaults"}


@dataclass(frozen=True)
class Label:
    """One label: display `name`, `synonyms` matched in captions, optional `parent`, `translations`, `not_this`.

    `parent` is either another label's name in the same set (a real hierarchy: a caption matching the
    child also counts for the parent) or a free keyword path such as "Animals" or "Nature|Animals".
    `prompt` is the wording used in prompts (defaults to the name with "_" read as a space).
    """

    name: str
    synonyms: tuple[str, ...] = ()
    parent: str | None = None
    translations: Mapping[str, str] = field(default_factory=dict, hash=False)
    not_this: tuple[str, ...] = ()
    prompt: str | None = None
    description: str = ""

    @property
    def prompt_name(self) -> str:
        return self.prompt or self.name.replace("_", " ")

    @property
    def terms(self) -> tuple[str, ...]:
        """Name, prompt wording and synonyms, de-duplicated, in that order (what the noun filter looks for)."""
        seen: dict[str, None] = {}
        for term in (self.name.replace("_", " "), self.prompt_name, *self.synonyms):
            seen.setdefault(term, None)
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.prompt:
            out["prompt"] = self.prompt
        if self.synonyms:
            out["synonyms"] = list(self.synonyms)
        if self.parent:
            out["parent"] = self.parent
        if self.translations:
            out["translations"] = dict(self.translations)
        if self.not_this:
            out["not_this"] = list(self.not_this)
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class LabelSet:
    """An ordered, validated set of labels; construction raises `InputError` listing every problem found."""

    name: str
    labels: tuple[Label, ...]
    description: str = ""
    language: str = "en"
    # per-label-set model/train presets where the reference configs differ per dataset (e.g. NUS-WIDE's
    # spatial temperature): {"model": {...}, "train": {...}, "variants": {name: {"model"/"train": {...}}}}
    training_defaults: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(self.labels))
        errors = validate(self)
        if errors:
            raise InputError(f"label set {self.name!r} is invalid:\n  - " + "\n  - ".join(errors))

    # -- views -------------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [label.name for label in self.labels]

    @property
    def prompt_names(self) -> list[str]:
        return [label.prompt_name for label in self.labels]

    @property
    def parents(self) -> dict[str, str | None]:
        return {label.name: label.parent for label in self.labels}

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.labels)

    def index(self, name: str) -> int:
        """Position of a label, found by name, prompt wording or synonym (case-insensitive)."""
        key = name.strip().lower()
        for i, label in enumerate(self.labels):
            if key == label.name.lower() or key in (t.lower() for t in label.terms):
                return i
        raise InputError(f"label {name!r} is not in label set {self.name!r}; known: {', '.join(self.names)}")

    def get(self, name: str) -> Label:
        return self.labels[self.index(name)]

    def group_count(self) -> int:
        """How many top-level keyword groups hold labels with a parent (memoised walk: linear in the labels)."""
        parents = self.parents
        top: dict[str, str] = {}

        def root(name: str) -> str:
            chain = []
            while name not in top:
                parent = parents.get(name)
                if parent is None or parent not in parents or parent in chain:
                    top[name] = parent if parent is not None and parent not in parents else name
                    break
                chain.append(name)
                name = parent
            for item in chain:
                top[item] = top[name]
            return top[name]

        return len({root(n) for n, p in parents.items() if p})

    def ancestors(self, name: str) -> list[str]:
        """Parent labels of a label inside this set, root first (free keyword groups are not labels)."""
        parents = self.parents
        return [a for a in ancestors(parents, name) if a in parents]

    def path(self, name: str) -> str:
        """Hierarchical keyword of a label, e.g. "Animals|dog" (what photo tools call a keyword path)."""
        return keyword_path(self.parents, name)

    def translated(self, language: str) -> list[str]:
        return [label.translations.get(language, label.name) for label in self.labels]

    def fingerprint(self) -> str:
        return sha1_hex(json.dumps(self.to_dict(), sort_keys=True), 16)

    # -- construction ------------------------------------------------------------------------------
    @classmethod
    def from_names(cls, names: Iterable[str], name: str = "custom") -> LabelSet:
        return cls(name=name, labels=tuple(_parse_label(n, f"labels[{i}]") for i, n in enumerate(names)))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "label set") -> LabelSet:
        if isinstance(data, list):
            data = {"labels": data}
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected an object with a 'labels' list, got {type(data).__name__}")
        unknown = sorted(set(data) - _SET_KEYS)
        if unknown:
            raise InputError(f"{source}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_SET_KEYS))}")
        version = data.get("version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise InputError(f"{source}: label-set format version {version!r} is not supported (expected 1)")
        raw_labels = data.get("labels")
        if not isinstance(raw_labels, list) or not raw_labels:
            raise InputError(f"{source}: 'labels' must be a non-empty list")
        name = data.get("name") or Path(source).stem or "custom"
        if not isinstance(name, str):
            raise InputError(f"{source}: 'name' must be a string")
        labels = tuple(_parse_label(item, f"{source}: labels[{i}]") for i, item in enumerate(raw_labels))
        try:
            return cls(
                name=name.strip(),
                labels=labels,
                description=str(data.get("description", "")),
                language=str(data.get("language", "en")),
                training_defaults=_training_defaults(data.get("training_defaults"), source),
            )
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> LabelSet:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError(f"{path}: label-set file not found") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot read label-set file: {exc}") from None
        if not text.strip():
            raise InputError(f"{path}: label-set file is empty")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" line {mark.line + 1}" if mark is not None else ""
                raise InputError(f"{path}:{where} malformed YAML: {getattr(exc, 'problem', exc)}") from None
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {exc.lineno} column {exc.colno}: malformed JSON: {exc.msg}") from None
            except RecursionError:
                raise InputError(f"{path}: the JSON is nested too deeply to be a label set") from None
        if isinstance(data, dict) and not data.get("name"):
            data = {**data, "name": path.stem}
        return cls.from_dict(data, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": FORMAT_VERSION, "name": self.name}
        if self.description:
            out["description"] = self.description
        if self.language != "en":
            out["language"] = self.language
        out["labels"] = [label.to_dict() for label in self.labels]
        if self.training_defaults:
            out["training_defaults"] = self.training_defaults
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)

    def save(self, path: str | Path) -> Path:
        import os
        import tempfile

        path = Path(path)
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)
        else:
            text = self.to_json() + "\n"
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
        return path

    # -- bundled sets ------------------------------------------------------------------------------
    @staticmethod
    def list_bundled() -> list[str]:
        folder = resources.files("engine.labels") / "bundled"
        return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))

    @classmethod
    def bundled(cls, name: str) -> LabelSet:
        key = name.strip().lower().replace("-", "_")
        aliases = {"voc": "voc2007", "mscoco": "coco", "coco2014": "coco", "nus": "nuswide", "nus_wide": "nuswide"}
        key = aliases.get(key, key)
        ref = resources.files("engine.labels") / "bundled" / f"{key}.json"
        if not ref.is_file():
            raise InputError(f"no bundled label set {name!r}; bundled: {', '.join(cls.list_bundled())}")
        return cls.from_dict(json.loads(ref.read_text(encoding="utf-8")), source=f"bundled:{key}")

    @classmethod
    def resolve(cls, spec: str | Path) -> LabelSet:
        """A label-set file path, or else the name of a bundled set."""
        path = Path(spec)
        if path.suffix.lower() in (".json", ".yaml", ".yml") or path.exists():
            return cls.from_file(path)
        return cls.bundled(str(spec))


def _training_defaults(value: Any, source: str) -> dict[str, Any]:
    """The optional `training_defaults` object: sections "model", "train" and "variants" of mappings."""
    if value is None:
        return {}
    sections = ("model", "train", "variants")
    if not isinstance(value, dict) or set(value) - set(sections):
        raise InputError(f"{source}: 'training_defaults' must be an object with keys among {', '.join(sections)}")
    if not all(isinstance(v, dict) for v in value.values()):
        raise InputError(f"{source}: every section of 'training_defaults' must be an object")
    return json.loads(json.dumps(value))


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: expected a list of strings")
    return tuple(v.strip() for v in value)


def _parse_label(item: Any, where: str) -> Label:
    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, dict):
        raise InputError(f"{where}: a label is a name or an object with 'name', got {type(item).__name__}")
    unknown = sorted(set(item) - _LABEL_KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_LABEL_KEYS))}")
    name = item.get("name")
    if not isinstance(name, str):
        raise InputError(f"{where}: 'name' is missing or not a string")
    name = name.strip()
    parent = item.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise InputError(f"{where}: 'parent' must be a string")
    if HIERARCHY_SEP in name:  # "Animals|dog" is the label "dog" with parent "Animals"
        head, _, name = name.rpartition(HIERARCHY_SEP)
        if parent is None:
            parent = head
        name = name.strip()
    translations = item.get("translations") or {}
    if not isinstance(translations, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in translations.items()
    ):
        raise InputError(f"{where} ({name!r}): 'translations' must map language codes to strings")
    prompt = item.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise InputError(f"{where} ({name!r}): 'prompt' must be a string")
    return Label(
        name=name,
        synonyms=_str_list(item.get("synonyms"), f"{where} ({name!r}) synonyms"),
        parent=parent.strip() if parent else None,
        translations={k.strip(): v.strip() for k, v in translations.items()},
        not_this=_str_list(item.get("not_this"), f"{where} ({name!r}) not_this"),
        prompt=prompt.strip() if prompt else None,
        description=str(item.get("description", "")),
    )


_FORBIDDEN = frozenset(";")


def validate(labelset: LabelSet) -> list[str]:
    """Every problem in a label set, as readable sentences (empty list: valid)."""
    errors: list[str] = []
    if not labelset.name.strip():
        errors.append("the label set has an empty name")
    if not labelset.labels:
        errors.append("the label set has no labels")
    seen_names: dict[str, str] = {}
    claimed: dict[tuple[str, ...], tuple[str, str]] = {}
    for i, label in enumerate(labelset.labels):
        if not isinstance(label, Label):
            errors.append(f"labels[{i}] is not a Label")
            continue
        if not label.name:
            errors.append(f"labels[{i}] has an empty name")
            continue
        if HIERARCHY_SEP in label.name:
            errors.append(f"label {label.name!r}: a name cannot contain {HIERARCHY_SEP!r} (use 'parent')")
        bad = sorted({c for c in label.name if c in _FORBIDDEN or unicodedata.category(c) == "Cc"})
        if bad:
            errors.append(f"label {label.name!r}: a name cannot contain {', '.join(repr(c) for c in bad)} "
                          "(';' separates CSV lists; control characters break keywords and sidecars)")
        key = label.name.lower()
        if key in seen_names:
            errors.append(f"duplicate label name {label.name!r} (labels {seen_names[key]} and {i})")
            continue
        seen_names[key] = str(i)
        for term in label.terms:
            phrase = canonical_phrase(term)
            if not term or not phrase:
                errors.append(f"label {label.name!r}: synonym {term!r} has no words")
                continue
            owner = claimed.get(phrase)
            if owner is not None and owner[0] != label.name:
                errors.append(
                    f"synonym {term!r} of label {label.name!r} is also claimed by label {owner[0]!r} "
                    f"(as {owner[1]!r}); keep it in one label only"
                )
            else:
                claimed.setdefault(phrase, (label.name, term))
        term_phrases = [tuple(tokenize(t)) for t in label.terms]
        for phrase_text in label.not_this:
            words = canonical_phrase(phrase_text)
            if not words:
                errors.append(f"label {label.name!r}: 'not this' phrase {phrase_text!r} has no words")
            elif not any(_contains(words, canonical_phrase(" ".join(t))) for t in term_phrases if t):
                errors.append(
                    f"label {label.name!r}: 'not this' phrase {phrase_text!r} contains none of its names or "
                    "synonyms, so it would never apply"
                )
        for lang, text in label.translations.items():
            if not lang or not text:
                errors.append(f"label {label.name!r}: empty translation {lang!r}: {text!r}")
    errors.extend(_cycle_errors(labelset))
    return errors


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _cycle_errors(labelset: LabelSet) -> list[str]:
    """Each parent cycle once; every label is walked once in all (linear in the number of labels)."""
    parent_of = {lb.name: lb.parent for lb in labelset.labels if isinstance(lb, Label)}
    errors: list[str] = []
    finished: set[str] = set()
    for start in parent_of:
        chain: dict[str, int] = {}  # this walk's labels, in order
        node: str | None = start
        while node is not None and node in parent_of and node not in finished:
            if node in chain:
                names = list(chain)[chain[node]:]
                errors.append("cycle in the hierarchy: " + " -> ".join([*names, node]))
                break
            chain[node] = len(chain)
            node = parent_of[node]
        finished.update(chain)
    return errors
