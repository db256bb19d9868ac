"""Scoring streams of documents in chunks, on one core or many.

The input is consumed lazily and results come out in input order, chunk by
chunk, so memory stays bounded by ``chunk_size`` times the number of chunks
in flight, whatever the input size.  With ``n_jobs != 1`` the chunks are
scored by joblib worker processes, each of which loads the model once and
keeps it for every chunk it receives.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from .io import Document

__all__ = ["DEFAULT_CHUNK_SIZE", "score_chunk", "score_documents"]

DEFAULT_CHUNK_SIZE = 256
_worker_models: dict[str | None, Any] = {}


def _model_for(model_path: str | None) -> Any:
    model = _worker_models.get(model_path)
    if model is None:
        from .persistence import load_model

        model = _worker_models[model_path] = load_model(model_path)
    return model


def score_chunk(model: Any, docs: list[Document], max_chars: int | None = None) -> list[dict[str, Any]]:
    """Score one chunk: one ``classify_many`` call for its readable documents.

    Parameters
    ----------
    model : TopicModel, str or None
        A model, or the path of one to load (``None``: the shipped model),
        loaded once per process.
    docs : list of Document
    max_chars : int or None
        Read at most this many characters per document (default: the
        model's own limit); longer documents are marked ``truncated``.

    Returns
    -------
    list of dict
        One record per document, in order: ``{"id", "labels", "scores"}``
        (plus ``"truncated": true``) or ``{"id", "error"}``.
    """
    if model is None or isinstance(model, (str, os.PathLike)):
        model = _model_for(None if model is None else str(model))
    readable = [doc for doc in docs if doc.error is None]
    texts = [doc.text for doc in readable]
    if max_chars is not None:
        texts = [text[:max_chars] for text in texts]
    results = iter(model.classify_many(texts))
    out = []
    for doc in docs:
        if doc.error is not None:
            out.append({"id": doc.id, "error": doc.error})
            continue
        record = {"id": doc.id, **next(results).to_dict()}
        if max_chars is not None and len(doc.text) > max_chars:
            record["truncated"] = True
        out.append(record)
    return out


def _chunks(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    it = iter(docs)
    while chunk := list(islice(it, size)):
        yield chunk


def score_documents(
    docs: Iterable[Document],
    *,
    model: Any = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_jobs: int = 1,
    max_chars: int | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Score documents chunk by chunk; yields each chunk's records in order.

    Parameters
    ----------
    docs : iterable of Document
        Consumed lazily.
    model : TopicModel, path or None, default=None
        With ``n_jobs != 1`` pass a path (or ``None`` for the shipped model)
        so that workers load the model themselves, once each.
    chunk_size : int, default=256
    n_jobs : int, default=1
        Worker processes; ``-1`` uses every core.
    max_chars : int or None, default=None
        See :func:`score_chunk`.

    Yields
    ------
    list of dict
        The records of one chunk (see :func:`score_chunk`).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1.")
    chunks = _chunks(docs, chunk_size)
    if n_jobs == 1:
        for chunk in chunks:
            yield score_chunk(model, chunk, max_chars)
        return
    from joblib import Parallel, delayed, effective_n_jobs

    workers = effective_n_jobs(n_jobs)
    parallel = Parallel(n_jobs=workers, return_as="generator", pre_dispatch=f"{2 * workers}")
    yield from parallel(delayed(score_chunk)(model, chunk, max_chars) for chunk in chunks)
