"""Labeled articles: load them (JSONL, CSV/TSV, a folder per label), check
them, and describe them.

Every problem is reported with its file and line, all at once, in one
:class:`~arabictopics.exceptions.DataError`, so that a user fixes a file in
one pass and no model is trained on data that is partly wrong.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exceptions import DataError

__all__ = ["LabeledData", "check_training_data", "describe", "load_labeled", "near_duplicates", "validate_labeled"]

_LABEL_SPLIT_RE = re.compile(r"\s*[|;]\s*")
_MAX_PROBLEMS_SHOWN = 25
_TEXT_SUFFIXES = {".txt", ".html", ".htm"}


@dataclass
class LabeledData:
    """Articles with their label sets and where each came from.

    Attributes
    ----------
    ids, texts : list of str
    labels : list of list of str
        The themes each article is about.
    mentions : list of (list of str or None)
        The themes each article names without being about them; ``None``
        where the source gives no mentions (a JSONL record without a
        ``mentions`` field, a CSV without a mentions column, a folder).
    origins : list of str
        ``"file:line"`` of each record, for messages.
    extra : list of dict
        Other fields of each record (genre, country, note, ...).
    sha256 : str
        Digest of the source files' bytes, in order.
    n_bytes : int
        Their total size.
    """

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    labels: list[list[str]] = field(default_factory=list)
    mentions: list[list[str] | None] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)
    sha256: str = ""
    n_bytes: int = 0

    def __len__(self) -> int:
        return len(self.texts)

    def label_names(self) -> list[str]:
        """Sorted union of all labels."""
        return sorted({label for row in self.labels for label in row})

    def has_mentions(self) -> bool:
        """Whether any record carries mention labels."""
        return any(row is not None for row in self.mentions)

    def keep(self, labels: Iterable[str]) -> None:
        """Drop every label and mention not in ``labels``."""
        keep = set(labels)
        self.labels = [[label for label in row if label in keep] for row in self.labels]
        self.mentions = [None if row is None else [m for m in row if m in keep] for row in self.mentions]


def _split_labels(value: Any) -> list[str] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part for part in _LABEL_SPLIT_RE.split(value.strip()) if part] if value.strip() else []
    return None


class _Collector:
    def __init__(self) -> None:
        self.data = LabeledData()
        self.problems: list[str] = []

    def _theme_list(self, origin: str, field: str, value: Any) -> list[str] | None:
        parsed = _split_labels(value)
        if parsed is None or not all(isinstance(label, str) and label for label in parsed):
            self.problems.append(f"{origin}: {field} must be a list of theme names (or 'a|b' in CSV), got {value!r}")
            return None
        listed = next((label for label in parsed if "," in label or "،" in label), None)
        if listed is not None:
            self.problems.append(
                f"{origin}: {field[:-1]} {listed!r} holds a comma; "
                f"separate {field} with '|' or ';', or give a JSON list"
            )
            return None
        return sorted(set(parsed))

    def add(
        self, origin: str, rec_id: Any, text: Any, labels: Any, extra: dict[str, Any], mentions: Any = None
    ) -> None:
        """Add a record; ``mentions=None`` means the record has no mention labels."""
        if not isinstance(text, str) or not text.strip():
            self.problems.append(f"{origin}: missing or empty text")
            return
        parsed = self._theme_list(origin, "labels", labels)
        if parsed is None:
            return
        named = None
        if mentions is not None:
            named = self._theme_list(origin, "mentions", mentions)
            if named is None:
                return
            both = sorted(set(parsed) & set(named))
            if both:
                self.problems.append(
                    f"{origin}: {', '.join(both)} in both labels and mentions; a theme the article is about is "
                    "a label only"
                )
                return
        self.data.ids.append(str(rec_id) if rec_id not in (None, "") else origin)
        self.data.texts.append(text)
        self.data.labels.append(parsed)
        self.data.mentions.append(named)
        self.data.origins.append(origin)
        self.data.extra.append(extra)


_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(rec: Any) -> bool:
    try:
        json.dumps(rec, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _read_jsonl(
    path: Path, raw: bytes, out: _Collector, text_key: str, labels_key: str, id_key: str, mentions_key: str
) -> None:
    text = raw.decode("utf-8-sig")
    # split on "\n" only: str.splitlines would also break lines at U+2028,
    # U+0085 and other separators that JSON strings may legally contain
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        origin = f"{path}:{lineno}"
        try:
            rec = json.loads(line)
        except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
            out.problems.append(f"{origin}: not valid JSON ({getattr(exc, 'msg', exc)})")
            continue
        except RecursionError:
            out.problems.append(f"{origin}: not valid JSON (nested too deeply)")
            continue
        if not isinstance(rec, dict):
            out.problems.append(f"{origin}: expected a JSON object, got {type(rec).__name__}")
            continue
        if _SURROGATE_ESCAPE_RE.search(line) and _has_lone_surrogate(rec):
            out.problems.append(f"{origin}: an unpaired surrogate escape (\\udXXX) is not valid Unicode")
            continue
        if labels_key not in rec:
            out.problems.append(f"{origin}: no {labels_key!r} field")
            continue
        extra = {k: v for k, v in rec.items() if k not in (text_key, labels_key, id_key, mentions_key)}
        mentions = rec.get(mentions_key) if mentions_key in rec else None
        if mentions_key in rec and mentions is None:
            mentions = []
        out.add(origin, rec.get(id_key), rec.get(text_key), rec[labels_key], extra, mentions)


def _read_csv(
    path: Path, raw: bytes, out: _Collector, text_key: str, labels_key: str, id_key: str, mentions_key: str
) -> None:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    # newline="": csv splits lines itself; str.splitlines would also cut
    # fields at form feeds, U+2028 and other characters inside a value
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    for key in (text_key, labels_key):
        if key not in header:
            raise DataError(
                f"{path}: no column {key!r} (columns: {', '.join(header) or 'none'}); "
                "name the columns with --text-column / --labels-column."
            )
    has_mentions = mentions_key in header
    for row in reader:
        origin = f"{path}:{reader.line_num}"
        fields = (text_key, labels_key, id_key, mentions_key)
        extra = {k: v for k, v in row.items() if k not in fields and k is not None}
        mentions = (row.get(mentions_key) or "") if has_mentions else None
        out.add(origin, row.get(id_key), row.get(text_key), row.get(labels_key) or "", extra, mentions)


def _read_folder(path: Path, out: _Collector) -> list[bytes]:
    """``path/LABEL/*.txt``: one label per subfolder; ``path/none/`` (or
    ``_none``) holds articles with no label."""
    chunks = []
    for label_dir in sorted(p for p in path.iterdir() if p.is_dir()):
        label = label_dir.name
        for file in sorted(f for f in label_dir.rglob("*") if f.is_file() and f.suffix.lower() in _TEXT_SUFFIXES):
            try:
                raw = file.read_bytes()
            except OSError as exc:
                out.problems.append(f"{file}: cannot read ({exc.strerror or exc})")
                continue
            chunks.append(raw)
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                out.problems.append(f"{file}: not UTF-8 (byte {exc.start}); re-save it as UTF-8")
                continue
            labels = [] if label in ("none", "_none", "off_topic") else [label]
            out.add(str(file), file.relative_to(path).as_posix(), text, labels, {})
    return chunks


def load_labeled(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    text_column: str = "text",
    labels_column: str = "labels",
    id_column: str = "id",
    mentions_column: str = "mentions",
    known_labels: Iterable[str] | None = None,
    keep_labels: Iterable[str] | None = None,
) -> LabeledData:
    """Read labeled articles from JSONL, CSV/TSV files or label folders.

    * ``.jsonl``: one object per line with ``text``, ``labels`` (a list),
      optional ``mentions`` (a list: themes the article names without being
      about them) and optional ``id``; other fields are kept in ``extra``.
    * ``.csv`` / ``.tsv``: a header row; labels (and mentions, when the
      file has that column) separated by ``|`` or ``;``.
    * a directory: one subfolder per label holding ``.txt`` files, and
      ``none/`` for articles without a label; no mentions.

    Parameters
    ----------
    paths : path or sequence of paths
    text_column, labels_column, id_column, mentions_column : str
        Field or column names.
    known_labels : iterable of str, optional
        When given, any other label is an error.
    keep_labels : iterable of str, optional
        Keep only these labels (others are dropped from each record).

    Returns
    -------
    LabeledData

    Raises
    ------
    DataError
        Listing every bad record with file and line.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = _Collector()
    digest = hashlib.sha256()
    n_bytes = 0
    if not paths:
        raise DataError("no training data given; pass JSONL, CSV/TSV files or a folder per label.")
    for raw_path in paths:
        path = Path(raw_path)
        if path.is_dir():
            chunks = _read_folder(path, out)
        elif path.is_file():
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise DataError(f"{path}: cannot read ({exc.strerror}).") from None
            chunks = [raw]
            suffix = path.suffix.lower()
            try:
                if suffix in (".csv", ".tsv"):
                    _read_csv(path, raw, out, text_column, labels_column, id_column, mentions_column)
                elif suffix in (".jsonl", ".json", ".ndjson"):
                    _read_jsonl(path, raw, out, text_column, labels_column, id_column, mentions_column)
                else:
                    raise DataError(f"{path}: unknown format {suffix or '(none)'}; use .jsonl, .csv, .tsv or a folder.")
            except UnicodeDecodeError as exc:
                line = raw.count(b"\n", 0, exc.start) + 1
                raise DataError(f"{path}:{line}: not UTF-8 (byte {exc.start}); re-save it as UTF-8.") from None
        else:
            raise DataError(f"{path}: no such file or directory.")
        for chunk in chunks:
            digest.update(chunk)
            n_bytes += len(chunk)
    data = out.data
    problems = out.problems
    if keep_labels is not None:
        data.keep(keep_labels)
    if known_labels is not None:
        known = set(known_labels)
        for origin, row, named in zip(data.origins, data.labels, data.mentions):
            unknown = sorted((set(row) | set(named or ())) - known)
            if unknown:
                problems.append(f"{origin}: unknown label(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    seen: dict[str, str] = {}
    for origin, rec_id in zip(data.origins, data.ids):
        if rec_id in seen:
            problems.append(f"{origin}: duplicate id {rec_id!r} (first at {seen[rec_id]})")
        else:
            seen[rec_id] = origin
    if problems:
        shown = "\n  ".join(problems[:_MAX_PROBLEMS_SHOWN])
        more = f"\n  ... and {len(problems) - _MAX_PROBLEMS_SHOWN} more" if len(problems) > _MAX_PROBLEMS_SHOWN else ""
        raise DataError(f"{len(problems)} problem(s) in the labeled data:\n  {shown}{more}")
    if not data.texts:
        names = ", ".join(str(path) for path in paths)
        raise DataError(
            f"{names}: no articles; expected JSONL/CSV records with {text_column!r} and {labels_column!r}, "
            "or a folder with one subfolder of .txt files per label."
        )
    data.sha256 = digest.hexdigest()
    data.n_bytes = n_bytes
    return data


_WORD_RE = re.compile(r"\w+")


def _shingles(text: str, n: int) -> set[tuple[str, ...]]:
    words = _WORD_RE.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(max(len(words) - n + 1, 1))}


def near_duplicates(texts: Sequence[str], *, n: int = 5, threshold: float = 0.5) -> list[tuple[int, int, float]]:
    """Pairs of texts whose word ``n``-gram Jaccard similarity exceeds ``threshold``.

    Candidate pairs come from an inverted index of shingles, so the cost
    grows with the number of shared shingles, not with the square of the
    number of texts.

    Returns
    -------
    list of (i, j, jaccard)
        ``i < j``, most similar first.

    Examples
    --------
    >>> a = "ضبطت الشرطة شحنة كبيرة من الحبوب المخدرة في ميناء جدة الإسلامي"
    >>> near_duplicates([a, a.replace("جدة", "ينبع"), "خبر مختلف تماما عن مباراة كرة القدم اليوم"])
    [(0, 1, 0.5556)]
    """
    sets = [_shingles(text, n) for text in texts]
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, shingles in enumerate(sets):
        for shingle in shingles:
            index[shingle].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for docs in index.values():
        if len(docs) < 2 or len(docs) > 200:  # a boilerplate shingle says nothing about a pair
            continue
        for a in range(len(docs)):
            for b in range(a + 1, len(docs)):
                shared[(docs[a], docs[b])] += 1
    pairs = []
    for (i, j), common in shared.items():
        union = len(sets[i]) + len(sets[j]) - common
        if union and common / union > threshold:
            pairs.append((i, j, round(common / union, 4)))
    pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
    return pairs


def validate_labeled(data: LabeledData, *, near_duplicate_threshold: float = 0.5) -> list[str]:
    """Problems that make labeled data a poor training set.

    Exact duplicate texts (after whitespace folding), and near-duplicate
    pairs (word 5-gram Jaccard above ``near_duplicate_threshold``), which
    teach a model a template instead of a theme.  Schema problems
    (unknown labels, empty text, duplicate ids) are already refused by
    :func:`load_labeled`.

    Returns
    -------
    list of str
        Human-readable problems; empty when the data is clean.
    """
    problems = []
    seen: dict[str, str] = {}
    for origin, text in zip(data.origins, data.texts):
        key = " ".join(text.split())
        if key in seen:
            problems.append(f"{origin}: exact duplicate of {seen[key]}")
        else:
            seen[key] = origin
    for i, j, score in near_duplicates(data.texts, threshold=near_duplicate_threshold):
        problems.append(f"{data.origins[j]}: near-duplicate of {data.origins[i]} (5-gram Jaccard {score:.2f})")
    return problems


#: A theme with fewer positive articles than this trains, with a warning.
FEW_EXAMPLES = 10


def check_training_data(
    data: LabeledData, *, cv: int = 5, allow_no_negatives: bool = False
) -> tuple[list[str], list[str]]:
    """What makes labeled data useless to train on (errors), or doubtful (warnings).

    In theme names, not column indices: a theme on every article or on
    none; too few articles of a theme for the cross-validation folds asked;
    no article without a theme, while the model is meant to be able to say
    "no theme" (unless ``allow_no_negatives``); a ``cv`` that makes no sense.

    Parameters
    ----------
    data : LabeledData
    cv : int, default=5
        Folds asked for (0: none).
    allow_no_negatives : bool, default=False
        Accept data where every article carries a theme.

    Returns
    -------
    (errors, warnings) : two lists of str

    Examples
    --------
    >>> d = LabeledData(ids=["1", "2"], texts=["a", "b"], labels=[["drugs"], ["drugs"]], mentions=[None, None])
    >>> check_training_data(d, cv=0)[0][0]  # doctest: +ELLIPSIS
    'drugs is on every article (2 of 2): ...'
    """
    errors: list[str] = []
    warnings: list[str] = []
    if cv < 0 or cv == 1:
        errors.append(
            f"cv={cv} makes no sense: give 0 (no cross-validation; thresholds stay at 0.5) or 2 or more folds."
        )
    n = len(data)
    counts = Counter(label for row in data.labels for label in set(row))
    if not counts:
        errors.append(
            "no article carries a label; nothing to learn. Label your articles (JSONL 'labels', a CSV labels column, "
            "or one folder per theme)."
        )
        return errors, warnings
    for label, count in sorted(counts.items()):
        if count == n:
            errors.append(
                f"{label} is on every article ({count} of {n}): a model can only learn to say it always. Add "
                f"articles without {label}."
            )
    minimum = max(cv, 2)
    rare = {label: count for label, count in counts.items() if count < minimum}
    if rare:
        listed = ", ".join(f"{label} ({count})" for label, count in sorted(rare.items()))
        errors.append(
            f"too few examples for {minimum}-fold cross-validation: {listed}; each theme needs at least {minimum} "
            "articles. Add examples, drop these themes with --labels, or lower --cv."
        )
    if not any(not row for row in data.labels) and not allow_no_negatives:
        errors.append(
            f"every article carries a theme ({n} of {n}): the model never sees one with none, so it will give every "
            "article a theme, off-topic news included. Add articles that carry no theme (records with empty labels, "
            "or a none/ folder beside the theme folders), or pass --allow-no-negatives if every article you will "
            "score is on one of your themes."
        )
    for label, count in sorted(counts.items()):
        if minimum <= count < FEW_EXAMPLES:
            warnings.append(f"{label} has only {count} articles: its scores will be unreliable; {FEW_EXAMPLES}+ help.")
    if 0 < cv and n < 5 * cv:
        warnings.append(f"{n} articles for {cv}-fold cross-validation: the reported figures will be noisy.")
    return errors, warnings


def describe(data: LabeledData) -> dict[str, Any]:
    """Counts per label and per mention, off-topic count, label cardinality, length
    distribution (words) and the spread of ``genre`` and ``country``."""
    lengths = sorted(len(text.split()) for text in data.texts)

    def pct(q: float) -> int:
        return lengths[min(len(lengths) - 1, int(q * (len(lengths) - 1)))]

    per_label = Counter(label for row in data.labels for label in row)
    cardinality = Counter(len(row) for row in data.labels)
    per_mention = Counter(m for row in data.mentions for m in (row or ()))
    return {
        "articles": len(data),
        "per_label": dict(sorted(per_label.items())),
        "with_mentions": sum(1 for row in data.mentions if row is not None),
        "per_mention": dict(sorted(per_mention.items())),
        "off_topic": cardinality.get(0, 0),
        "labels_per_article": {str(k): v for k, v in sorted(cardinality.items())},
        "mean_labels": round(sum(len(r) for r in data.labels) / max(len(data), 1), 3),
        "words": {"min": lengths[0], "p10": pct(0.1), "median": pct(0.5), "p90": pct(0.9), "max": lengths[-1]},
        "genre": dict(Counter(e.get("genre", "?") for e in data.extra).most_common()),
        "country": dict(Counter(e.get("country", "?") for e in data.extra).most_common()),
        "with_note": sum(1 for e in data.extra if e.get("note")),
    }
