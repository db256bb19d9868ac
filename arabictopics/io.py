"""Reading articles to classify and writing results, as streams.

:func:`iter_documents` yields one :class:`Document` per input record, in
input order, reading lazily: files, directories (recursively), ``-`` for
standard input, JSONL, CSV/TSV.  A record that cannot be read becomes a
:class:`Document` with ``error`` set instead of stopping the stream, so the
output keeps one line per input.  Standard library only.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "INPUT_FORMATS",
    "MAX_LINE_BYTES",
    "AtomicOutput",
    "Document",
    "iter_documents",
    "write_records",
]

INPUT_FORMATS = ("auto", "text", "jsonl", "csv", "tsv")
#: JSONL/CSV lines longer than this are reported as error records unread.
MAX_LINE_BYTES = 64 * 1024 * 1024
#: Plain-text files: bytes read per file at most (the model reads far fewer
#: characters, see ``--max-chars``); the rest is skipped, not loaded.
MAX_FILE_BYTES = 16 * 1024 * 1024
_DIR_SUFFIXES = (".txt", ".html", ".htm")
_BINARY_SNIFF = 8192


@dataclass(frozen=True)
class Document:
    """One input record: an ``id`` and either ``text`` or an ``error``."""

    id: str
    text: str | None = None
    error: str | None = None
    source: str = ""


def _suffix_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return suffix[1:]
    return "text"


def _walk(path: Path, seen: set[tuple[int, int]]) -> Iterator[Path]:
    """Files under ``path`` ending in .txt/.html/.htm, sorted, each real
    directory visited once (symlink loops are cut)."""
    try:
        stat = path.stat()
    except OSError:
        return
    key = (stat.st_dev, stat.st_ino)
    if key in seen:
        return
    seen.add(key)
    try:
        entries = sorted(path.iterdir())
    except OSError:
        yield path  # reported as unreadable by the reader
        return
    for entry in entries:
        if entry.is_dir():
            yield from _walk(entry, seen)
        elif entry.suffix.lower() in _DIR_SUFFIXES:
            yield entry


def _read_text_file(path: Path, encoding: str, errors: str) -> Document:
    name = str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES)
    except IsADirectoryError:
        return Document(name, error="is a directory")
    except PermissionError:
        return Document(name, error="permission denied; check the file's permissions")
    except OSError as exc:
        return Document(name, error=f"cannot read: {exc.strerror or exc}")
    if b"\x00" in raw[:_BINARY_SNIFF] and encoding.lower().replace("-", "") in ("utf8", "utf8sig"):
        return Document(name, error="binary file (NUL bytes), not text; skipped")
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    try:
        text = decoder.decode(raw, final=len(raw) < MAX_FILE_BYTES)
    except UnicodeDecodeError as exc:
        return Document(
            name,
            error=f"not valid {encoding} (byte {exc.start}); pass --encoding, or --errors replace to read it anyway",
        )
    return Document(name, text=text, source=name)


def _lines(stream: io.BufferedIOBase) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)``; an over-long line yields ``None`` and is skipped."""
    lineno = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES)
        if not line:
            return
        lineno += 1
        if len(line) >= MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:  # skip the rest of the line without keeping it
                rest = stream.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
            yield lineno, None
            continue
        yield lineno, line


def _decode(raw: bytes, encoding: str, errors: str, lineno: int) -> str:
    if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
        raw = raw[3:]
    return raw.decode(encoding, errors)


def _iter_jsonl(stream, name: str, encoding: str, errors: str, text_key: str, id_key: str) -> Iterator[Document]:
    for lineno, raw in _lines(stream):
        rid = f"{name}:{lineno}"
        if raw is None:
            yield Document(rid, error=f"line {lineno}: longer than {MAX_LINE_BYTES} bytes; skipped")
            continue
        try:
            line = _decode(raw, encoding, errors, lineno)
        except UnicodeDecodeError as exc:
            yield Document(rid, error=f"line {lineno}: not valid {encoding} (byte {exc.start})")
            continue
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            yield Document(rid, error=f"line {lineno}: not valid JSON ({getattr(exc, 'msg', exc)})")
            continue
        if not isinstance(rec, dict):
            yield Document(rid, error=f"line {lineno}: expected a JSON object with {text_key!r}")
            continue
        rec_id = rec.get(id_key)
        rid = str(rec_id) if rec_id is not None else rid
        text = rec.get(text_key)
        if not isinstance(text, str):
            what = "missing" if text is None else f"a {type(text).__name__}, not a string"
            yield Document(rid, error=f"line {lineno}: {text_key!r} is {what}")
            continue
        yield Document(rid, text=text, source=f"{name}:{lineno}")


def _iter_csv(
    stream, name: str, encoding: str, errors: str, delimiter: str, text_key: str, id_key: str | None
) -> Iterator[Document]:
    csv.field_size_limit(MAX_LINE_BYTES)
    text_stream = io.TextIOWrapper(
        stream, encoding="utf-8-sig" if encoding == "utf-8" else encoding, errors=errors, newline=""
    )
    reader = csv.reader(text_stream, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except (UnicodeDecodeError, csv.Error) as exc:
        yield Document(f"{name}:1", error=f"cannot read the header: {exc}")
        return
    if text_key not in header:
        raise ValueError(f"{name}: no column {text_key!r} (columns: {', '.join(header)}); use --text-column.")
    t = header.index(text_key)
    i = header.index(id_key) if id_key and id_key in header else None
    row_no = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except (UnicodeDecodeError, csv.Error) as exc:
            row_no += 1
            yield Document(f"{name}:{reader.line_num}", error=f"line {reader.line_num}: {exc}")
            continue
        row_no += 1
        if not row:
            continue
        rid = row[i] if i is not None and i < len(row) else f"{name}:{reader.line_num}"
        if t >= len(row):
            yield Document(rid, error=f"line {reader.line_num}: no {text_key!r} value")
            continue
        yield Document(rid, text=row[t], source=f"{name}:{reader.line_num}")


def _open_binary(source: str) -> tuple[Any, str]:
    if source == "-":
        return sys.stdin.buffer, "<stdin>"
    return open(source, "rb"), source


def iter_documents(
    sources: Sequence[str],
    *,
    input_format: str = "auto",
    text_column: str = "text",
    id_column: str | None = "id",
    encoding: str = "utf-8",
    errors: str = "strict",
) -> Iterator[Document]:
    """Yield the documents of ``sources`` lazily, in order.

    Parameters
    ----------
    sources : sequence of str
        Paths of files or directories, or ``"-"`` for standard input.
        Directories are read recursively (``*.txt``, ``*.html``, ``*.htm``,
        sorted by path; symlink loops are followed once).
    input_format : {"auto", "text", "jsonl", "csv", "tsv"}, default="auto"
        ``auto`` decides by file suffix (``.jsonl``, ``.csv``, ``.tsv``,
        anything else is one plain-text document per file); standard input is
        one text document unless a format is given.
    text_column, id_column : str
        JSONL keys / CSV columns holding the text and the id.
    encoding : str, default="utf-8"
    errors : {"strict", "replace", "ignore"}, default="strict"
        What to do with undecodable bytes: ``strict`` reports the record as an
        error, the others read it anyway.

    Yields
    ------
    Document
    """
    if input_format not in INPUT_FORMATS:
        raise ValueError(f"unknown input format {input_format!r}; choose one of {', '.join(INPUT_FORMATS)}.")
    for source in sources:
        fmt = input_format
        if fmt == "auto":
            fmt = "text" if source == "-" else _suffix_format(source)
        if source != "-" and os.path.isdir(source):
            for path in _walk(Path(source), set()):
                yield _read_text_file(path, encoding, errors)
            continue
        if fmt == "text":
            if source == "-":
                raw = sys.stdin.buffer.read()
                try:
                    yield Document("<stdin>", text=raw.decode(encoding, errors), source="<stdin>")
                except UnicodeDecodeError as exc:
                    yield Document("<stdin>", error=f"not valid {encoding} (byte {exc.start})")
            else:
                yield _read_text_file(Path(source), encoding, errors)
            continue
        try:
            stream, name = _open_binary(source)
        except OSError as exc:
            yield Document(source, error=f"cannot read: {exc.strerror or exc}")
            continue
        try:
            if fmt == "jsonl":
                yield from _iter_jsonl(stream, name, encoding, errors, text_column, id_column or "id")
            else:
                delimiter = "\t" if fmt == "tsv" else ","
                yield from _iter_csv(stream, name, encoding, errors, delimiter, text_column, id_column)
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------


class AtomicOutput:
    """A text file that appears at ``path`` only when closed successfully.

    Writes go to a temporary file in the same directory; :meth:`commit`
    renames it over ``path``.  :meth:`abort` keeps what was written as
    ``path + ".partial"`` (or deletes it with ``keep=False``).
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        self.stream: TextIO = os.fdopen(fd, "w", encoding="utf-8", newline="")

    def commit(self) -> None:
        self.stream.flush()
        os.fsync(self.stream.fileno())
        self.stream.close()
        os.replace(self._tmp, self.path)

    def abort(self, keep: bool = True) -> Path | None:
        self.stream.close()
        if keep and os.path.getsize(self._tmp):
            partial = self.path.with_name(self.path.name + ".partial")
            os.replace(self._tmp, partial)
            return partial
        Path(self._tmp).unlink(missing_ok=True)
        return None


def _csv_row(record: dict[str, Any], labels: Sequence[str]) -> list[Any]:
    scores = record.get("scores") or {}
    return [
        record["id"],
        "|".join(record.get("labels") or []),
        *[scores.get(label, "") for label in labels],
        record.get("error", ""),
    ]


def write_records(
    records: Iterable[dict[str, Any]],
    stream: TextIO,
    fmt: str,
    labels: Sequence[str],
    *,
    header: bool = True,
) -> int:
    """Write result records as ``jsonl``, ``csv``, ``tsv`` or ``table``;
    returns how many were written.  ``header`` writes the CSV header/table
    head (pass ``False`` for later chunks of one stream)."""
    n = 0
    if fmt == "jsonl":
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    elif fmt in ("csv", "tsv"):
        writer = csv.writer(stream, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
        if header:
            writer.writerow(["id", "labels", *labels, "error"])
        for record in records:
            writer.writerow(_csv_row(record, labels))
            n += 1
    elif fmt == "table":
        if header:
            stream.write(f"{'id':<40}  themes\n")
        for record in records:
            if record.get("error"):
                shown = "ERROR: " + record["error"]
            else:
                scores = record["scores"]
                shown = ", ".join(f"{label} ({scores[label]:.2f})" for label in record["labels"]) or "-"
                if record.get("truncated"):
                    shown += "  [truncated]"
            rid = str(record["id"])
            rid = rid if len(rid) <= 40 else "…" + rid[-39:]
            stream.write(f"{rid:<40}  {shown}\n")
            n += 1
    else:
        raise ValueError(f"unknown output format {fmt!r}")
    return n
