"""Streaming caption readers: COCO captions JSON, narratives JSONL, plain text and CSV (no whole-file loads)."""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InputError

FORMATS = ("coco", "narratives", "text", "csv")
_SUFFIX_FORMAT = {".json": "coco", ".jsonl": "narratives", ".ndjson": "narratives", ".txt": "text", ".csv": "csv"}
MAX_CAPTION_CHARS = 20_000  # a longer "caption" is almost certainly a wrong file or a missing line break
MAX_LINE_BYTES = 64 * 1024 * 1024  # narratives lines carry mouse traces; anything larger is not a narrative
MAX_JSON_VALUE_CHARS = 64 * 1024 * 1024
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RawCaption:
    """One caption as read from a file: its text, where it was, labels the file gave (if any), and a group key."""

    text: str
    line: int
    labels: tuple[str, ...] | None = None
    key: str | None = None  # e.g. the COCO image id (for one-caption-per-image imports)


def detect_format(path: str | Path, fmt: str = "auto") -> str:
    if fmt != "auto":
        if fmt not in FORMATS:
            raise InputError(f"unknown caption format {fmt!r}; use one of: auto, {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIX_FORMAT:
        raise InputError(
            f"{path}: cannot tell the caption format from the extension {suffix!r}; pass one of {', '.join(FORMATS)}"
        )
    return _SUFFIX_FORMAT[suffix]


def iter_captions(path: str | Path, fmt: str = "auto") -> Iterator[RawCaption]:
    """Yield captions from a file one by one; malformed input raises `InputError` naming the file and line."""
    path = Path(path)
    fmt = detect_format(path, fmt)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path}: caption file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read caption file: {exc}") from None
    if size == 0:
        raise InputError(f"{path}: the file is empty")
    reader = {"coco": _iter_coco, "narratives": _iter_narratives, "text": _iter_text, "csv": _iter_csv}[fmt]
    count = 0
    for raw in reader(path):
        count += 1
        yield raw
    if count == 0:
        raise InputError(f"{path}: no captions found (is this a {fmt} file?)")


def _check_text(path: Path, line: int, text: Any, what: str = "caption") -> str:
    if not isinstance(text, str):
        raise InputError(f"{path}: line {line}: {what} must be a string, got {type(text).__name__}")
    if len(text) > MAX_CAPTION_CHARS:
        raise InputError(
            f"{path}: line {line}: {what} is {len(text):,} characters long (limit {MAX_CAPTION_CHARS:,}); "
            "is this the right file and format?"
        )
    return " ".join(text.split())


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Decoded lines with 1-based numbers; bad UTF-8 and over-long lines raise `InputError` with the line number."""
    with path.open("rb") as f:
        number = 0
        while True:
            raw = f.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise InputError(
                    f"{path}: line {number} is longer than {MAX_LINE_BYTES:,} bytes; is this the right file?"
                )
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path}: line {number}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                    "re-save the file as UTF-8"
                ) from None


def _iter_text(path: Path) -> Iterator[RawCaption]:
    for number, line in _lines(path):
        text = line.strip()
        if text:
            if "\x00" in text:
                raise InputError(f"{path}: line {number}: contains NUL bytes; this looks like a binary file")
            yield RawCaption(_check_text(path, number, text), number)


def _iter_narratives(path: Path) -> Iterator[RawCaption]:
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: line {number} column {exc.colno}: malformed JSON: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise InputError(f"{path}: line {number}: expected a JSON object per line")
        if "caption" not in obj:
            raise InputError(f"{path}: line {number}: missing field 'caption' (localized narratives JSONL)")
        key = obj.get("image_id")
        yield RawCaption(_check_text(path, number, obj["caption"]), number, None, None if key is None else str(key))


def _iter_csv(path: Path) -> Iterator[RawCaption]:
    lines = _lines(path)
    # csv needs the line text only; keep our own numbering for the error messages.
    current = [0]

    def texts() -> Iterator[str]:
        for number, line in lines:
            current[0] = number
            yield line

    reader = csv.reader(texts(), strict=True)
    first = True
    try:
        for row in reader:
            number = current[0]
            if first:
                first = False
                header = [c.strip().lower() for c in row]
                if header and header[0] in ("caption", "text") and header[1:] in ([], ["labels"], ["label"]):
                    continue
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) > 2:
                raise InputError(
                    f"{path}: line {number}: expected 'caption[,labels]' but found {len(row)} columns; "
                    "put captions with commas in double quotes"
                )
            text = _check_text(path, number, row[0])
            if not text:
                raise InputError(f"{path}: line {number}: empty caption")
            labels = None
            if len(row) == 2 and row[1].strip():
                labels = tuple(p.strip() for p in row[1].split(";") if p.strip())
            yield RawCaption(text, number, labels)
    except csv.Error as exc:
        raise InputError(f"{path}: line {current[0]}: malformed CSV: {exc}") from None


# -- COCO captions JSON, streamed ------------------------------------------------------------------------


class _JsonStream:
    """Reads one JSON document incrementally: top-level object keys, array items one at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f = path.open("rb")
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._dec = json.JSONDecoder()
        self.buf = ""
        self.pos = 0
        self.eof = False
        self._lines_before = 0  # newlines in text already dropped from the buffer
        self._counted_pos = 0  # newlines in buf[:_counted_pos] are counted in _counted_lines
        self._counted_lines = 0

    def close(self) -> None:
        self._f.close()

    def line(self, pos: int | None = None) -> int:
        pos = self.pos if pos is None else pos
        if pos < self._counted_pos:
            return self._lines_before + self.buf.count("\n", 0, pos) + 1
        self._counted_lines += self.buf.count("\n", self._counted_pos, pos)
        self._counted_pos = pos
        return self._lines_before + self._counted_lines + 1

    def error(self, message: str, pos: int | None = None) -> InputError:
        return InputError(f"{self.path}: line {self.line(pos)}: {message}")

    def _fill(self) -> bool:
        if self.eof:
            return False
        raw = self._f.read(_CHUNK)
        try:
            text = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            raise self.error(f"not UTF-8 text ({exc.reason}); re-save the file as UTF-8", len(self.buf)) from None
        if not raw:
            self.eof = True
        if self.pos > _CHUNK:
            self._lines_before = self.line() - 1
            self._counted_pos = self._counted_lines = 0
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += text
        return bool(raw)

    def peek(self) -> str:
        """Next non-blank character ('' at the end of the file)."""
        while True:
            buf, pos, n = self.buf, self.pos, len(self.buf)
            while pos < n and buf[pos] in " \t\r\n":
                pos += 1
            self.pos = pos
            if pos < n:
                return buf[pos]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        got = self.peek()
        if got != char:
            found = repr(got) if got else "the end of the file"
            raise self.error(f"malformed JSON: expected {char!r}, found {found}")
        self.pos += 1

    def value(self) -> Any:
        """Decode the next complete JSON value (reading more of the file until it is complete)."""
        self.peek()
        while True:
            try:
                obj, end = self._dec.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._fill():
                    self._check_size()
                    continue
                raise self.error(f"malformed JSON: {exc.msg}", exc.pos) from None
            if end >= len(self.buf) and not self.eof and self._fill():
                continue  # a number or literal may go on in the next chunk
            self.pos = end
            return obj

    def _check_size(self) -> None:
        if len(self.buf) - self.pos > MAX_JSON_VALUE_CHARS:
            raise self.error(
                f"a single JSON value is larger than {MAX_JSON_VALUE_CHARS:,} characters; is this the right file?"
            )

    def items(self) -> Iterator[tuple[int, Any]]:
        """Items of the array starting here, with the line each starts on."""
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            self.peek()
            line = self.line()
            yield line, self.value()
            sep = self.peek()
            self.pos += 1
            if sep == "]":
                return
            if sep != ",":
                self.pos -= 1
                raise self.error(f"malformed JSON: expected ',' or ']' after an array item, found {sep or 'the end'!r}")

    def skip(self) -> None:
        if self.peek() == "[":
            for _ in self.items():
                pass
        else:
            self.value()


def _iter_coco(path: Path) -> Iterator[RawCaption]:
    stream = _JsonStream(path)
    try:
        if stream.peek() != "{":
            raise stream.error("expected a JSON object with an 'annotations' list (a COCO captions file)")
        stream.pos += 1
        found = False
        while True:
            ch = stream.peek()
            if ch == "}":
                break
            if ch != '"':
                raise stream.error(f"malformed JSON: expected a key, found {ch or 'the end of the file'!r}")
            key = stream.value()
            stream.expect(":")
            if key == "annotations":
                found = True
                if stream.peek() != "[":
                    raise stream.error("'annotations' must be a list")
                for line, ann in stream.items():
                    if not isinstance(ann, dict):
                        raise InputError(f"{path}: line {line}: each annotation must be an object")
                    if "caption" not in ann:
                        raise InputError(f"{path}: line {line}: annotation has no 'caption' field")
                    image = ann.get("image_id")
                    key = None if image is None else str(image)
                    yield RawCaption(_check_text(path, line, ann["caption"]), line, None, key)
            else:
                stream.skip()
            sep = stream.peek()
            if sep == ",":
                stream.pos += 1
            elif sep != "}":
                raise stream.error(f"malformed JSON: expected ',' or '}}', found {sep or 'the end of the file'!r}")
        if not found:
            raise InputError(f"{path}: no 'annotations' list; is this a COCO captions file (captions_*.json)?")
    finally:
        stream.close()
