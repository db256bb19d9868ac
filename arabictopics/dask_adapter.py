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

__all__ = ["classify_bag", "classify_dataframe"]


def _require_dask() -> None:
    try:
        import dask
        import dask.distributed  # noqa: F401
    except ImportError:
        raise ArabicTopicsError('the Dask adapter needs dask: pip install "arabictopics[dask]"') from None


def _model_handle(model: Any, client: Any) -> Any:
    from .persistence import load_model

    model = load_model(model) if model is None or isinstance(model, str) else model
    if client is None:
        from dask.distributed import get_client

        try:
            client = get_client()
        except ValueError:
            return model  # no cluster: the local scheduler shares the object
    return client.scatter(model, broadcast=True, hash=False)


def _score_partition(texts: list[str], model: Any) -> list[dict[str, Any]]:
    return [result.to_dict() for result in model.classify_many(list(texts))]


def classify_bag(bag: Any, *, model: Any = None, client: Any = None) -> Any:
    """Score a ``dask.bag`` of article texts.

    Parameters
    ----------
    bag : dask.bag.Bag of str
    model : TopicModel, path or None
        ``None``: the shipped model.
    client : dask.distributed.Client, optional
        Defaults to the current client.

    Returns
    -------
    dask.bag.Bag of dict
        ``{"labels": [...], "scores": {...}}`` per text, same order.
    """
    _require_dask()
    handle = _model_handle(model, client)
    return bag.map_partitions(_score_partition, handle)


def _score_frame(frame: Any, column: str, model: Any, labels: list[str]) -> Any:
    results = model.classify_many(frame[column].astype(str).tolist())
    out = frame.copy()
    out["labels"] = ["|".join(r.labels) for r in results]
    for label in labels:
        out[f"score_{label}"] = [r.scores[label] for r in results]
    return out


def classify_dataframe(frame: Any, column: str = "text", *, model: Any = None, client: Any = None) -> Any:
    """Add ``labels`` (``|``-joined) and ``score_<theme>`` columns to a
    ``dask.dataframe`` holding article texts in ``column``.

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
    from .persistence import load_model

    local = load_model(model) if model is None or isinstance(model, str) else model
    labels = [str(c) for c in local.classes_]
    meta = frame._meta.copy()
    meta["labels"] = meta[column].astype(str)
    for label in labels:
        meta[f"score_{label}"] = 0.0
    handle = _model_handle(local, client)
    return frame.map_partitions(_score_frame, column, handle, labels, meta=meta)
