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
import re
import stat
import sys
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from .exceptions import InputError

__all__ = [
    "DIRECTORY_SUFFIXES",
    "INPUT_FORMATS",
    "MAX_LINE_BYTES",
    "MAX_QUOTED_LINES",
    "AtomicOutput",
    "BytesRead",
    "Document",
    "display_width",
    "input_size",
    "iter_documents",
    "output_target",
    "resolve_documents",
    "write_records",
]

INPUT_FORMATS = ("auto", "text", "jsonl", "csv", "tsv")
#: JSONL/CSV lines longer than this are reported as error records unread.
MAX_LINE_BYTES = 64 * 1024 * 1024
#: Plain-text files: bytes read per file at most (the model reads far fewer
#: characters, see ``--max-chars``); the rest is skipped, not loaded.
MAX_FILE_BYTES = 16 * 1024 * 1024
#: What a directory is searched for (recursively): one article per text or
#: HTML file, one per record of a JSONL, CSV or TSV file.
DIRECTORY_SUFFIXES = (".txt", ".html", ".htm", ".jsonl", ".ndjson", ".csv", ".tsv")
_BINARY_SNIFF = 8192
_SKIP_CHUNK = 1024 * 1024
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# csv, like open(newline=""), also ends a line at a lone "\r"
_LONE_CR_RE = re.compile(r"(?<=\r)(?=[^\n])")


def _printable(name: str) -> str:
    """``name`` with unpaired surrogates (undecodable bytes of a file name,
    ``\\udXXX`` escapes in JSON) written as backslash escapes, so that the
    output can always be encoded as UTF-8."""
    if _SURROGATE_RE.search(name) is None:
        return name
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


# What a terminal would act on instead of showing: C0 and C1 controls, DEL,
# and the bidi embeddings, overrides and isolates that reorder what follows.
_TERMINAL_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _terminal_safe(text: str) -> str:
    """``text`` with control characters written as visible escapes
    (``\\x1b``, ``\\r``, ``\\u202e``), for output meant for a person's terminal.

    Examples
    --------
    >>> _terminal_safe("id\\x1b[2J\\rx")
    'id\\\\x1b[2J\\\\rx'
    """
    if _TERMINAL_CONTROL_RE.search(text) is None:
        return text
    return _TERMINAL_CONTROL_RE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True)
class Document:
    """One input record: an ``id`` and either ``text`` or an ``error``;
    ``fields`` holds the input fields named by ``keep`` (see
    :func:`iter_documents`), ``None`` where the record lacks one."""

    id: str
    text: str | None = None
    error: str | None = None
    source: str = ""
    fields: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _printable(self.id))
        object.__setattr__(self, "source", _printable(self.source))


def _text_document(
    rid: str, text: str, source: str, errors: str, where: str = "", fields: dict[str, Any] | None = None
) -> Document:
    """A readable document, unless ``text`` holds unpaired surrogates (not
    valid Unicode, e.g. a ``"\\ud800"`` JSON escape): then ``errors`` decides,
    as for undecodable bytes."""
    bad = _SURROGATE_RE.search(text)
    if bad is not None:
        if errors == "strict":
            return Document(
                rid,
                error=f"{where}unpaired surrogate U+{ord(bad.group()):04X} at character {bad.start()}, not valid "
                "Unicode; pass --errors replace to read it anyway",
            )
        text = _SURROGATE_RE.sub("" if errors == "ignore" else "\ufffd", text)
    return Document(rid, text=text, source=source, fields=fields)


def _suffix_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return suffix[1:]
    return "text"


def _walk(path: Path, seen: set[tuple[int, int]]) -> Iterator[Path | Document]:
    """Files under ``path`` with a :data:`DIRECTORY_SUFFIXES` suffix, sorted, each real
    directory visited once (symlink loops are cut); what cannot be listed
    or is not a regular file comes as an error :class:`Document`."""
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
    except PermissionError:
        yield Document(str(path), error="cannot list this directory: permission denied; check its permissions")
        return
    except OSError as exc:
        yield Document(str(path), error=f"cannot list this directory: {exc.strerror or exc}")
        return
    for entry in entries:
        if entry.is_dir():
            yield from _walk(entry, seen)
        elif entry.suffix.lower() in DIRECTORY_SUFFIXES:
            if entry.exists() and not entry.is_file():  # opening a named pipe would block
                yield Document(str(entry), error="not a regular file (a pipe, socket or device); skipped")
            else:
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
    return _text_document(name, text, name, errors)


def _lines(stream: io.BufferedIOBase) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)``; an over-long line yields ``None`` and is skipped."""
    lineno = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES)
        if not line:
            return
        lineno += 1
        if len(line) >= MAX_LINE_BYTES and not line.endswith(b"\n"):
            del line
            while True:  # skip the rest of the line without keeping it
                rest = stream.readline(_SKIP_CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield lineno, None
            continue
        yield lineno, line


def _decode(raw: bytes, encoding: str, errors: str, lineno: int) -> str:
    if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
        raw = raw[3:]
    return raw.decode(encoding, errors)


def _jsonl_document(
    raw: bytes,
    lineno: int,
    name: str,
    encoding: str,
    errors: str,
    text_key: str,
    id_key: str | None,
    keep: tuple[str, ...] = (),
) -> Document | None:
    """The document of one JSONL line (``None`` for a blank line)."""
    rid = f"{name}:{lineno}"
    try:
        line = _decode(raw, encoding, errors, lineno)
    except UnicodeDecodeError as exc:
        return Document(rid, error=f"line {lineno}: not valid {encoding} (byte {exc.start})")
    if not line.strip():
        return None
    try:
        rec = json.loads(line)
    except ValueError as exc:
        return Document(rid, error=f"line {lineno}: not valid JSON ({getattr(exc, 'msg', exc)})")
    except RecursionError:
        return Document(rid, error=f"line {lineno}: not valid JSON (nested too deeply)")
    if not isinstance(rec, dict):
        return Document(rid, error=f"line {lineno}: expected a JSON object with {text_key!r}")
    rec_id = rec.get(id_key or "id")
    rid = str(rec_id) if rec_id not in (None, "") else rid
    text = rec.get(text_key)
    if not isinstance(text, str):
        what = "missing" if text is None else f"a {type(text).__name__}, not a string"
        return Document(rid, error=f"line {lineno}: {text_key!r} is {what}")
    fields = {key: rec.get(key) for key in keep} if keep else None
    return _text_document(rid, text, f"{name}:{lineno}", errors, f"line {lineno}: ", fields)


class _JsonlLine(NamedTuple):
    """A JSONL line read but not yet parsed (see ``defer`` in :func:`iter_documents`)."""

    raw: bytes
    lineno: int
    name: str
    encoding: str
    errors: str
    text_key: str
    id_key: str | None
    keep: tuple[str, ...]

    def document(self) -> Document | None:
        return _jsonl_document(*self)


class _TextFile(NamedTuple):
    """A text file not yet read (see ``defer`` in :func:`iter_documents`)."""

    path: Path
    encoding: str
    errors: str

    def document(self) -> Document:
        return _read_text_file(*self)


def _text_file(path: Path, encoding: str, errors: str, defer: bool) -> Document | _TextFile:
    return _TextFile(path, encoding, errors) if defer else _read_text_file(path, encoding, errors)


_Deferred = _JsonlLine | _TextFile


def resolve_documents(items: Iterable[Document | _Deferred]) -> list[Document]:
    """Documents from the items of ``iter_documents(..., defer=True)``: deferred
    records are read and parsed here; blank JSONL lines are dropped.

    Examples
    --------
    >>> import json, tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
    ...     _ = fh.write(json.dumps({"id": "a1", "text": "خبر"}) + "\\n\\n")
    >>> items = list(iter_documents([fh.name], defer=True))
    >>> [type(item).__name__ for item in items]
    ['_JsonlLine', '_JsonlLine']
    >>> [doc.id for doc in resolve_documents(items)]
    ['a1']
    """
    out = []
    for item in items:
        doc = item if isinstance(item, Document) else item.document()
        if doc is not None:
            out.append(doc)
    return out


def _check_first_record(
    raw: bytes, name: str, lineno: int, text_key: str, id_key: str | None, keep: tuple[str, ...] = ()
) -> bool:
    """Raise :class:`InputError` when the first JSON object of a file lacks a
    field the user named (the text, an id named with ``--id-column``, a
    field to ``--keep``);
    ``True`` once a record was checked (a line that is no object is left to
    the per-line errors)."""
    try:
        rec = json.loads(raw.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return False
    if not isinstance(rec, dict):
        return False
    for key, option in ((text_key, "--text-column"), (id_key, "--id-column"), *((k, "--keep") for k in keep)):
        if key is not None and key not in rec:
            fields = ", ".join(map(repr, list(rec)[:12])) or "none"
            raise InputError(
                f"{name}:{lineno}: the first record has no {key!r} field (its fields: {fields}); "
                + (
                    "--keep only fields the records have."
                    if option == "--keep"
                    else f"name the field with {option}"
                    + (", or leave --id-column out to number the records." if key == id_key else ".")
                )
            )
    return True


def _iter_jsonl(
    stream,
    name: str,
    encoding: str,
    errors: str,
    text_key: str,
    id_key: str | None,
    defer: bool = False,
    keep: tuple[str, ...] = (),
) -> Iterator[Document | _JsonlLine]:
    checked = False
    for lineno, raw in _lines(stream):
        if not checked and raw is not None and raw.strip():
            checked = _check_first_record(raw, name, lineno, text_key, id_key, keep)
        if raw is None:
            yield Document(f"{name}:{lineno}", error=f"line {lineno}: longer than {MAX_LINE_BYTES} bytes; skipped")
        elif defer:
            yield _JsonlLine(raw, lineno, name, encoding, errors, text_key, id_key, keep)
        else:
            doc = _jsonl_document(raw, lineno, name, encoding, errors, text_key, id_key, keep)
            if doc is not None:
                yield doc


#: A quoted CSV/TSV field may hold line breaks; one that runs over more
#: lines than this is taken for an unbalanced quote that swallows rows.
MAX_QUOTED_LINES = 1000


def _iter_csv(
    stream,
    name: str,
    encoding: str,
    errors: str,
    delimiter: str,
    text_key: str,
    id_key: str | None,
    quoting: str = "csv",
    keep: tuple[str, ...] = (),
) -> Iterator[Document]:
    # Each physical line is decoded on its own, so that an undecodable or
    # over-long line fails only the record it belongs to.  ``span`` holds
    # (line number, problem) of every line the reader took for the current
    # row: csv.reader pulls lines lazily, one row's worth at a time; and
    # ``quotes`` the number of double quotes in them.  A row whose quoted
    # field never closes reads every line to the end of the file: its lines
    # hold an odd number of quotes.
    csv.field_size_limit(MAX_LINE_BYTES)
    span: list[tuple[int, str | None]] = []
    quotes = [0]

    def physical_lines() -> Iterator[str]:
        for lineno, raw in _lines(stream):
            if raw is None:
                span.append((lineno, f"longer than {MAX_LINE_BYTES} bytes; skipped"))
                yield "\n"
                continue
            try:
                line = _decode(raw, encoding, errors, lineno)
            except UnicodeDecodeError as exc:
                problem = f"not valid {encoding} (byte {exc.start}); pass --errors replace to read it anyway"
                span.append((lineno, problem))
                yield "\n"
                continue
            for piece in _LONE_CR_RE.split(line) if "\r" in line else (line,):
                span.append((lineno, None))
                quotes[0] += piece.count('"')
                yield piece

    reader = csv.reader(
        physical_lines(), delimiter=delimiter, quoting=csv.QUOTE_NONE if quoting == "none" else csv.QUOTE_MINIMAL
    )

    def unbalanced() -> None:
        """Raise when the row just read opened a quote that swallowed the following lines."""
        lines = len({n for n, _ in span})
        if quoting == "none" or lines < 2 or (quotes[0] % 2 == 0 and lines <= MAX_QUOTED_LINES):
            return
        first, last = span[0][0], span[-1][0]
        hint = "pass --quoting none (the file's quotes are then read as text)" + (
            ", as TSV files usually need" if delimiter == "\t" else ""
        )
        raise InputError(
            f"{name}: line {first}: a quoted field opens here and runs to line {last} "
            f"({'the end of the file' if quotes[0] % 2 else f'{lines} lines'}), taking every row in between "
            f"with it: an unbalanced double quote. Fix the quote, or {hint}."
        )

    def problem_of_span() -> tuple[int, str | None]:
        first = span[0][0] if span else 0
        return first, next((f"line {n}: {p}" for n, p in span if p is not None), None)

    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield Document(f"{name}:1", error=f"cannot read the header: {exc}")
        return
    first, problem = problem_of_span()
    if problem is not None:
        yield Document(f"{name}:{first}", error=f"cannot read the header: {problem}")
        return
    if text_key not in header:
        raise InputError(f"{name}: no column {text_key!r} (columns: {', '.join(header)}); use --text-column.")
    if id_key is not None and id_key not in header:
        raise InputError(
            f"{name}: no column {id_key!r} (columns: {', '.join(header)}); use --id-column, or leave it out to "
            "number the rows."
        )
    absent = [key for key in keep if key not in header]
    if absent:
        raise InputError(f"{name}: no column {absent[0]!r} to --keep (columns: {', '.join(header)}).")
    t = header.index(text_key)
    i = header.index(id_key or "id") if (id_key or "id") in header else None
    kept = [(key, header.index(key)) for key in keep]
    while True:
        span.clear()
        quotes[0] = 0
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            first = span[0][0] if span else reader.line_num
            yield Document(f"{name}:{first}", error=f"line {first}: {exc}")
            continue
        unbalanced()
        first, problem = problem_of_span()
        where = f"{name}:{first}"
        if problem is not None:
            yield Document(where, error=problem)
            continue
        if not row:
            continue
        rid = row[i] if i is not None and i < len(row) and row[i] else where
        if t >= len(row):
            yield Document(rid, error=f"line {first}: no {text_key!r} value")
            continue
        fields = {key: row[k] if k < len(row) else None for key, k in kept} if kept else None
        yield _text_document(rid, row[t], where, errors, f"line {first}: ", fields)


def _source_format(source: str, input_format: str) -> str:
    if input_format != "auto":
        return input_format
    return "text" if source == "-" else _suffix_format(source)


def _check_codec(sources: Sequence[str], input_format: str, encoding: str, errors: str) -> None:
    """Refuse an unknown encoding or error policy, and an encoding that is
    not ASCII-compatible (UTF-16, UTF-32) for line-based formats."""
    try:
        probe = '\n,\t"{}'.encode(encoding).removeprefix(codecs.BOM_UTF8)
    except LookupError:  # unknown, or not a text encoding (base64, rot13, ...)
        raise InputError(
            f"unknown text encoding {encoding!r}; use a name such as utf-8, cp1256 or iso-8859-6."
        ) from None
    except UnicodeError:
        probe = b""
    try:
        codecs.lookup_error(errors)
    except LookupError:
        raise InputError(f"unknown error policy {errors!r}; use strict, replace or ignore.") from None
    line_based = any(
        _source_format(source, input_format) != "text" and not (source != "-" and os.path.isdir(source))
        for source in sources
    )
    if line_based and probe != b'\n,\t"{}':
        raise InputError(
            f"JSONL/CSV input cannot be read as {encoding} (not ASCII-compatible); convert it to UTF-8, "
            f"e.g. `iconv -f {encoding} -t UTF-8`."
        )


def _read_stdin_text(encoding: str, errors: str) -> Document:
    """Standard input as one article, read up to ``MAX_FILE_BYTES`` (the rest
    is read and dropped, so that the writer does not get a broken pipe)."""
    stdin = sys.stdin.buffer
    raw = stdin.read(MAX_FILE_BYTES)
    if len(raw) == MAX_FILE_BYTES:
        while stdin.read(_SKIP_CHUNK):
            pass
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    try:
        text = decoder.decode(raw, final=len(raw) < MAX_FILE_BYTES)
    except UnicodeDecodeError as exc:
        return Document(
            "<stdin>",
            error=f"not valid {encoding} (byte {exc.start}); pass --encoding, or --errors replace to read it anyway",
        )
    return _text_document("<stdin>", text, "<stdin>", errors)


def _open_binary(source: str) -> tuple[Any, str]:
    if source == "-":
        return sys.stdin.buffer, "<stdin>"
    return open(source, "rb"), source


class BytesRead:
    """How many input bytes :func:`iter_documents` has read so far
    (``n``), for a progress bar whose total is :func:`input_size`."""

    def __init__(self) -> None:
        self.n = 0


class _Counted:
    """A binary stream whose ``readline`` adds what it reads to a :class:`BytesRead`."""

    def __init__(self, stream: Any, counter: BytesRead) -> None:
        self._stream, self._counter = stream, counter

    def readline(self, size: int = -1) -> bytes:
        line = self._stream.readline(size)
        self._counter.n += len(line)
        return line


def _file_size(path: str | Path) -> int | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def input_size(sources: Sequence[str]) -> int | None:
    """Total bytes of the files ``sources`` name (directories searched as
    :func:`iter_documents` searches them), or ``None`` when it cannot be
    known in advance (standard input, a pipe, an unreadable file).

    Examples
    --------
    >>> input_size(["-"]) is None
    True
    """
    total = 0
    for source in sources:
        if source == "-":
            return None
        if os.path.isdir(source):
            for item in _walk(Path(source), set()):
                size = None if isinstance(item, Document) else _file_size(item)
                if size is None:
                    return None
                total += size
            continue
        size = _file_size(source)
        if size is None:
            return None
        total += size
    return total


def iter_documents(
    sources: Sequence[str],
    *,
    input_format: str = "auto",
    text_column: str = "text",
    id_column: str | None = None,
    encoding: str = "utf-8",
    errors: str = "strict",
    defer: bool = False,
    quoting: str = "csv",
    keep: Sequence[str] = (),
    bytes_read: BytesRead | None = None,
) -> Iterator[Document | _Deferred]:
    """Yield the documents of ``sources`` lazily, in order.

    Parameters
    ----------
    sources : sequence of str
        Paths of files or directories, or ``"-"`` for standard input.
        Directories are read recursively (:data:`DIRECTORY_SUFFIXES`:
        ``*.txt``, ``*.html``, ``*.htm`` one article each, ``*.jsonl``,
        ``*.csv``, ``*.tsv`` one per record, each file by its suffix, sorted
        by path; symlink loops are followed once).
    input_format : {"auto", "text", "jsonl", "csv", "tsv"}, default="auto"
        ``auto`` decides by file suffix (``.jsonl``, ``.csv``, ``.tsv``,
        anything else is one plain-text document per file); standard input is
        one text document unless a format is given.
    text_column : str, default="text"
        JSONL key / CSV column holding the text.
    id_column : str or None, default=None
        JSONL key / CSV column holding the id; ``None`` reads ``id`` where
        there is one.  A column named here that the header (CSV) or the
        first record (JSONL) lacks is an :class:`InputError`, like a missing
        text column.
    encoding : str, default="utf-8"
    errors : {"strict", "replace", "ignore"}, default="strict"
        What to do with undecodable bytes (and with unpaired surrogates from
        ``\\udXXX`` JSON escapes): ``strict`` reports the record as an error,
        the others read it anyway.
    quoting : {"csv", "none"}, default="csv"
        CSV/TSV quoting: ``csv`` reads ``"..."`` fields (which may hold
        delimiters and line breaks); ``none`` reads double quotes as text,
        as unquoted TSV needs.  With ``csv``, a quoted field that never
        closes, or runs over :data:`MAX_QUOTED_LINES` lines, raises
        :class:`~arabictopics.exceptions.InputError` naming its line, instead
        of silently taking the rest of the file as one field.
    defer : bool, default=False
        Yield JSONL lines unparsed and plain-text files unread, as records
        that :func:`resolve_documents` turns into documents (and that
        :mod:`arabictopics.scoring` resolves where it scores them): with
        worker processes, the workers then do the parsing and the reading,
        and the process that reads the input only splits it into lines.
        Errors found on resolving are the same error documents.
    keep : sequence of str, default=()
        JSONL keys / CSV columns to carry into each document's ``fields``
        (values as read: any JSON value, CSV strings; ``None`` where a record
        lacks one).  A name the header (CSV) or the first record (JSONL)
        lacks is an :class:`InputError`.  Plain-text documents have no
        fields (``None``).
    bytes_read : BytesRead or None, default=None
        Counts the bytes read, as the documents are yielded (a plain-text
        file counts whole when it is yielded).

    Yields
    ------
    Document
        One per record, in order; a record that cannot be read has ``error``
        set.  Ids are never empty (``FILE:LINE`` when the record has none)
        and always encodable as UTF-8 (backslash escapes for undecodable
        file-name bytes).

    Raises
    ------
    InputError
        Usage errors: an unknown encoding or error policy, or an encoding
        that is not ASCII-compatible (UTF-16, UTF-32) for JSONL/CSV input,
        when the stream starts; a CSV/TSV file without ``text_column``, when
        that file is reached.
    """
    if input_format not in INPUT_FORMATS:
        raise ValueError(f"unknown input format {input_format!r}; choose one of {', '.join(INPUT_FORMATS)}.")
    _check_codec(sources, input_format, encoding, errors)
    options = (encoding, errors, text_column, id_column, quoting, defer, tuple(keep), bytes_read)
    for source in sources:
        if source != "-" and os.path.isdir(source):
            for item in _walk(Path(source), set()):  # each file read by its own suffix
                if isinstance(item, Document):
                    yield item
                else:
                    yield from _read_source(str(item), None, *options)
            continue
        yield from _read_source(source, _source_format(source, input_format), *options)


def _read_source(
    source: str,
    fmt: str | None,
    encoding: str,
    errors: str,
    text_column: str,
    id_column: str | None,
    quoting: str,
    defer: bool,
    keep: tuple[str, ...] = (),
    bytes_read: BytesRead | None = None,
) -> Iterator[Document | _Deferred]:
    """The documents of one file (or ``-``) read as ``fmt`` (``None``: by its suffix)."""
    fmt = fmt or _suffix_format(source)
    if fmt == "text":
        if source == "-":
            yield _read_stdin_text(encoding, errors)
        else:
            if bytes_read is not None:
                bytes_read.n += _file_size(source) or 0
            yield _text_file(Path(source), encoding, errors, defer)
        return
    try:
        stream, name = _open_binary(source)
    except PermissionError:
        yield Document(source, error="permission denied; check the file's permissions")
        return
    except OSError as exc:
        yield Document(source, error=f"cannot read: {exc.strerror or exc}")
        return
    lines = stream if bytes_read is None else _Counted(stream, bytes_read)
    try:
        if fmt == "jsonl":
            yield from _iter_jsonl(lines, name, encoding, errors, text_column, id_column, defer, keep)
        else:
            delimiter = "\t" if fmt == "tsv" else ","
            yield from _iter_csv(lines, name, encoding, errors, delimiter, text_column, id_column, quoting, keep)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------


def _file_mode() -> int:
    """The mode ``open(path, "w")`` would give a new file (0666 minus the umask)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def output_target(path: str | os.PathLike[str]) -> tuple[Path, os.stat_result | None]:
    """The file an output path names, and its status (``None``: nothing there yet).

    A symlink is followed to what it points at, so that the file written is
    the link's target and the link stays a link.
    """
    real = Path(os.path.realpath(path))
    try:
        return real, os.stat(real)
    except FileNotFoundError:
        return real, None


class AtomicOutput:
    """A text file that appears at ``path`` only when closed successfully.

    Writes go to a temporary file next to the file ``path`` names (a
    symlink's target); :meth:`commit` renames it over that file, with the
    mode the file already had (or the usual mode for a new file).
    :meth:`abort` keeps what was written as ``FILE.partial`` (or deletes it
    with ``keep=False``).  A character device or a FIFO (``/dev/null``,
    ``/dev/stdout``, a named pipe) is never replaced: it is written
    directly, streamed, and there is nothing to keep on abort.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.target, status = output_target(path)
        self.direct = status is not None and (stat.S_ISCHR(status.st_mode) or stat.S_ISFIFO(status.st_mode))
        if self.direct:
            self.stream: TextIO = open(self.target, "w", encoding="utf-8", newline="")
            return
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent)
        keep_mode = status is not None and stat.S_ISREG(status.st_mode)
        # mkstemp makes it private (0600): give it the old file's mode, or the usual one
        os.chmod(self._tmp, stat.S_IMODE(status.st_mode) if keep_mode else _file_mode())
        self.stream = os.fdopen(fd, "w", encoding="utf-8", newline="")

    def commit(self) -> None:
        if self.direct:
            self.stream.close()
            return
        try:
            self.stream.flush()
            os.fsync(self.stream.fileno())
            self.stream.close()
            os.replace(self._tmp, self.target)
        except BaseException:
            self.stream.close()
            Path(self._tmp).unlink(missing_ok=True)
            raise

    def abort(self, keep: bool = True) -> Path | None:
        self.stream.close()
        if self.direct:
            return None
        if keep and os.path.getsize(self._tmp):
            partial = self.target.with_name(self.target.name + ".partial")
            os.replace(self._tmp, partial)
            return partial
        Path(self._tmp).unlink(missing_ok=True)
        return None


def _csv_header(labels: Sequence[str], keep: Sequence[str] = ()) -> list[str]:
    return ["id", *keep, "labels", "mentions", *labels, *(f"evidence_{label}" for label in labels), "error"]


def _csv_value(value: Any) -> Any:
    """A kept input field as a CSV cell: strings and numbers as they are,
    ``None`` empty, lists and objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _csv_row(record: dict[str, Any], labels: Sequence[str], keep: Sequence[str] = ()) -> list[Any]:
    scores = record.get("scores") or {}
    quoted = {**(record.get("evidence") or {}), **(record.get("mentions") or {})}
    return [
        record["id"],
        *[_csv_value(record.get(key)) for key in keep],
        "|".join(record.get("labels") or []),
        "|".join(record.get("mentions") or {}),
        *[scores.get(label, "") for label in labels],
        *[quoted.get(label, "") for label in labels],
        record.get("error", ""),
    ]


#: How the terminal table introduces the themes an article only names.
ALSO_NAMES = "يذكر أيضاً / also names: "
#: Table width when the terminal's is unknown.
TABLE_WIDTH = 100
_ZERO_WIDTH_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
_ARABIC_LETTER_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: combining marks (Arabic
    harakat), format characters and zero-width joiners take none, East Asian
    wide and full-width characters two, the rest one.

    Examples
    --------
    >>> display_width("مُسيَّرة"), len("مُسيَّرة")
    (5, 8)
    >>> display_width("新闻")
    4
    """
    width = 0
    for ch in text:
        if unicodedata.category(ch) in _ZERO_WIDTH_CATEGORIES or ch == "\u200b":
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns with an ellipsis: an id with Arabic
    letters (a title) keeps its beginning, any other (a path, a URL, a
    ``FILE:LINE``) its end."""
    if display_width(text) <= width:
        return text
    keep_start = _ARABIC_LETTER_RE.search(text) is not None
    chars = text if keep_start else text[::-1]
    out, used = [], 1  # the ellipsis
    for ch in chars:
        w = display_width(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    kept = "".join(out)
    return kept + "…" if keep_start else "…" + kept[::-1]


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def _wrap(pieces: Sequence[tuple[str, str]], width: int) -> list[str]:
    """Lines of at most ``width`` columns from ``(joiner, piece)`` pairs,
    broken between pieces (and inside a piece only at spaces, when it is
    longer than a line by itself)."""
    lines: list[str] = []
    line = ""
    for joiner, piece in pieces:
        words = piece.split(" ") if display_width(piece) > width else [piece]
        for k, word in enumerate(words):
            glue = (joiner if k == 0 else " ") if line else ""
            if line and display_width(line + glue + word) > width:
                lines.append(line.rstrip())
                line, glue = "", ""
            line += glue + word
    if line or not lines:
        lines.append(line.rstrip())
    return lines


def _table_pieces(record: dict[str, Any], cuts: dict[str, float] | None) -> list[tuple[str, str]]:
    """What the table shows of one record, as ``(joiner, piece)`` pairs."""
    if record.get("error"):
        return [("", "ERROR: " + str(record["error"]))]
    scores = record["scores"]

    def label(name: str) -> str:
        shown = f"{name} {scores[name]:.2f}"
        return shown + (f" ≥ {cuts[name]:.2f}" if cuts and name in cuts else "")

    pieces = [(", ", label(name)) for name in record["labels"]] or [("", "-")]
    mentions = list(record.get("mentions") or ())
    if mentions:
        pieces.append(("   ", ALSO_NAMES + mentions[0]))
        pieces.extend((", ", name) for name in mentions[1:])
    if record.get("truncated"):
        pieces.append(("  ", "[truncated]"))
    return [(joiner, _terminal_safe(piece)) for joiner, piece in pieces]


def _table_columns(width: int | None) -> tuple[int, int]:
    """(id column, themes column) widths for a table ``width`` columns wide."""
    width = max(40, width or TABLE_WIDTH)
    id_width = max(12, min(40, width // 3))
    return id_width, width - id_width - 2


def write_records(
    records: Iterable[dict[str, Any]],
    stream: TextIO,
    fmt: str,
    labels: Sequence[str],
    *,
    header: bool = True,
    keep: Sequence[str] = (),
    thresholds: Sequence[float] | None = None,
    width: int | None = None,
) -> int:
    """Write result records as ``jsonl``, ``csv``, ``tsv`` or ``table``;
    returns how many were written.  ``header`` writes the CSV header/table
    head (pass ``False`` for later chunks of one stream).

    CSV/TSV columns: ``id``, the ``keep`` fields (lists and objects as
    JSON), ``labels`` and ``mentions`` (themes joined by ``|``), one score
    column per theme, one ``evidence_<theme>`` column per theme (the
    sentence that shows a label or a mention, else empty), and ``error``.
    JSONL records carry the kept fields after ``id``.

    The table (for a person at a terminal ``width`` columns wide, default
    :data:`TABLE_WIDTH`) lists each label with its score and, given
    ``thresholds`` (in ``labels`` order), the threshold it reached
    (``drones 0.49 ≥ 0.45``), then the themes the article only names
    («يذكر أيضاً / also names: …»).  Columns are measured in display width
    (:func:`display_width`), long ids are clipped with "…" (Arabic titles
    keep their beginning, paths their end), and rows wrap between themes,
    never inside a word."""
    n = 0
    if fmt == "jsonl":
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    elif fmt in ("csv", "tsv"):
        writer = csv.writer(stream, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
        if header:
            writer.writerow(_csv_header(labels, keep))
        for record in records:
            writer.writerow(_csv_row(record, labels, keep))
            n += 1
    elif fmt == "table":
        id_width, themes_width = _table_columns(width)
        cuts = dict(zip(labels, thresholds)) if thresholds is not None else None
        if header:
            heading = "themes (score ≥ threshold)" if cuts else "themes (score)"
            stream.write(f"{_pad('id', id_width)}  {heading}\n")
        indent = " " * (id_width + 2)
        for record in records:
            rid = _pad(_clip(_terminal_safe(str(record["id"])), id_width), id_width)
            lines = _wrap(_table_pieces(record, cuts), themes_width)
            stream.write(f"{rid}  {lines[0]}\n" + "".join(f"{indent}{line}\n" for line in lines[1:]))
            n += 1
    else:
        raise ValueError(f"unknown output format {fmt!r}")
    return n
