"""Scoring on a Dask cluster (needs the optional ``dask`` extra).

The model is scattered to the workers once (``client.scatter(...,
broadcast=True)``) and every partition is scored with one
``classify_many`` call.

Examples
--------
>>> from dask.distributed import Client, LocalCluster      # doctest: +SKIP
>>> import dask.bag as db                                   # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2))              # doctest: +SKIP
>>> bag = db.from_sequence(texts, npartitions=8)            # doctest: +SKIP
>>> results = classify_bag(bag, client=client).compute()    # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from .exceptions import ArabicTopicsError

__all__ = ["classify_bag", "classify_dataframe", "to_jsonl"]


def _require_dask() -> None:
    try:
        import dask
        import dask.distributed  # noqa: F401
    except ImportError:
        raise ArabicTopicsError('the Dask adapter needs dask: pip install "arabictopics[dask]"') from None


def _local_model(model: Any) -> Any:
    """A model, from a model, a path (``str`` or ``os.PathLike``) or ``None`` (the shipped model)."""
    import os

    from .persistence import load_model

    return load_model(model) if model is None or isinstance(model, (str, os.PathLike)) else model


def _model_handle(model: Any, client: Any) -> Any:
    model = _local_model(model)
    if client is None:
        from dask.distributed import get_client

        try:
            client = get_client()
        except ValueError:
            return model  # no cluster: the local scheduler shares the object
    return client.scatter(model, broadcast=True, hash=False)


def _jsonl_block(records: Any) -> list[str]:
    """A partition's records as one JSONL string, every record ending in a line break."""
    import json

    return ["".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)]


def to_jsonl(bag: Any, path: str, **options: Any) -> Any:
    """Write a bag of records as JSONL part files: one file per partition,
    every record ending in ``\\n`` (the last one too), so that ``cat
    part-*.jsonl`` is valid JSONL.

    ``bag.map(json.dumps).to_textfiles(...)`` joins the records of a part
    with line breaks but ends the part without one, so concatenated parts
    run two records into one line.

    Parameters
    ----------
    bag : dask.bag.Bag of dict
        E.g. the result of :func:`classify_bag`.
    path : str
        A glob with one ``*`` (``"scored/part-*.jsonl"``), as for
        ``Bag.to_textfiles``.
    **options
        Passed to ``Bag.to_textfiles`` (``storage_options``, ``compute``, ...).

    Examples
    --------
    >>> to_jsonl(classify_bag(records, client=client), "scored/part-*.jsonl")  # doctest: +SKIP
    """
    _require_dask()
    return bag.map_partitions(_jsonl_block).to_textfiles(path, **options)


def _text_of(item: Any, text_key: str) -> tuple[str | None, str | None]:
    """``(text, None)``, or ``(None, error)`` for an element that holds no text."""
    if isinstance(item, str):
        return item, None
    if isinstance(item, dict):
        if text_key not in item:
            return None, f"no {text_key!r} field"
        item = item[text_key]
        if isinstance(item, str):
            return item, None
        return None, f"{text_key!r} is {type(item).__name__}, not a string"
    return None, f"expected a string or a record, got {type(item).__name__}"


def _score_partition(items: Any, model: Any, text_key: str, id_key: str) -> list[dict[str, Any]]:
    """Records in order; an element without usable text becomes ``{"id", "error"}``, as in the CLI."""
    items = list(items)
    read = [_text_of(item, text_key) for item in items]
    results = iter(model.classify_many([text for text, error in read if error is None]))
    out = []
    for item, (_, error) in zip(items, read):
        record = {"error": error} if error is not None else next(results).to_dict()
        if isinstance(item, dict) and id_key in item:
            record = {"id": item[id_key], **record}
        elif error is not None:
            record = {"id": None, **record}
        out.append(record)
    return out


def classify_bag(bag: Any, *, model: Any = None, client: Any = None, text_key: str = "text", id_key: str = "id") -> Any:
    """Score a ``dask.bag`` of article texts, or of records holding them.

    Parameters
    ----------
    bag : dask.bag.Bag of str or of dict
        Texts, or records (e.g. JSONL lines read with
        ``db.read_text(...).map(json.loads)``) with the text under
        ``text_key`` and an optional id under ``id_key``.
    model : TopicModel, path (str or os.PathLike) or None
        ``None``: the shipped model.
    client : dask.distributed.Client, optional
        Defaults to the current client.
    text_key, id_key : str, default="text", "id"
        Keys of the records' text and id.

    Returns
    -------
    dask.bag.Bag of dict
        ``{"labels": [...], "scores": {...}, "mentions": {...},
        "evidence": {...}}`` per element (see
        :meth:`arabictopics.model.Classification.to_dict`), same order, with
        ``"id"`` first for records that carry one.  An element with no
        usable text (a missing key, ``None``, a number) becomes
        ``{"id", "error"}``, as in the command line, and the rest of its
        partition is scored.

    Examples
    --------
    >>> import json                                                       # doctest: +SKIP
    >>> records = db.read_text("feeds/*.jsonl", blocksize="16MiB").map(json.loads)  # doctest: +SKIP
    >>> scored = classify_bag(records, client=client)                     # doctest: +SKIP
    >>> scored.map(json.dumps, ensure_ascii=False).to_textfiles("scored/*.jsonl")  # doctest: +SKIP
    """
    _require_dask()
    handle = _model_handle(model, client)
    return bag.map_partitions(_score_partition, handle, text_key, id_key)


def _frame_problem(column: str, value: Any) -> str:
    import pandas as pd

    if pd.api.types.is_scalar(value) and pd.isna(value):
        return f"no {column!r} value (missing)"
    return f"{column!r} is {type(value).__name__}, not a string"


def _score_frame(frame: Any, column: str, model: Any, labels: list[str]) -> Any:
    values = frame[column].tolist()
    ok = [isinstance(value, str) for value in values]
    scored = iter(model.classify_many([value for value, good in zip(values, ok) if good]))
    results = [next(scored) if good else None for good in ok]
    out = frame.copy()
    out["labels"] = ["|".join(r.labels) if r else "" for r in results]
    out["mentions"] = ["|".join(r.mentions) if r else "" for r in results]
    for label in labels:
        out[f"score_{label}"] = [r.scores[label] if r else float("nan") for r in results]
    for label in labels:
        out[f"evidence_{label}"] = [r.evidence.get(label, r.mentions.get(label, "")) if r else "" for r in results]
    out["error"] = ["" if good else _frame_problem(column, value) for value, good in zip(values, ok)]
    return out


def classify_dataframe(frame: Any, column: str = "text", *, model: Any = None, client: Any = None) -> Any:
    """Add ``labels`` and ``mentions`` (``|``-joined), ``score_<theme>`` and
    ``evidence_<theme>`` (the sentence behind a label or a mention, else
    empty) columns to a ``dask.dataframe`` holding article texts in
    ``column``, and an ``error`` column: empty, or why a row's value could
    not be scored (a missing value, a number); such a row gets no labels
    and NaN scores, and the others are scored as usual.

    Parameters
    ----------
    frame : dask.dataframe.DataFrame
    column : str, default="text"
    model : TopicModel, path or None
    client : dask.distributed.Client, optional

    Returns
    -------
    dask.dataframe.DataFrame
    """
    _require_dask()

    local = _local_model(model)
    labels = [str(c) for c in local.classes_]
    meta = frame._meta.copy()
    meta["labels"] = meta[column].astype(str)
    meta["mentions"] = meta[column].astype(str)
    for label in labels:
        meta[f"score_{label}"] = 0.0
    for label in labels:
        meta[f"evidence_{label}"] = meta[column].astype(str)
    meta["error"] = meta[column].astype(str)
    handle = _model_handle(local, client)
    return frame.map_partitions(_score_frame, column, handle, labels, meta=meta)
