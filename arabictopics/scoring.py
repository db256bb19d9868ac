"""Scoring streams of documents in chunks, on one core or many.

The input is consumed lazily and results come out in input order, chunk by
chunk, so memory stays bounded by ``chunk_size`` times the number of chunks
in flight, whatever the input size.  With ``n_jobs != 1`` the chunks are
scored by worker processes: forked from this one where the platform forks
(they inherit the loaded model and start at once), else joblib's, each of
which loads the model once and keeps it for every chunk it receives.

:func:`score_documents` yields result records (dicts).
:func:`score_formatted` yields each chunk already written out as JSONL,
CSV, TSV or table text: the workers do the formatting too, so the parent
process only reads input and writes output and ``--jobs`` scales.
"""

from __future__ import annotations

import functools
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .io import Document, resolve_documents, write_records

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "FormattedChunk",
    "ModelFile",
    "fork_pool",
    "score_chunk",
    "score_documents",
    "score_formatted",
    "shared_model",
]

DEFAULT_CHUNK_SIZE = 256
_worker_models: dict[str | None, Any] = {}


@dataclass(frozen=True)
class ModelFile:
    """A model file checked by the process that hands it to workers: its
    path (``None``: the shipped model) and the sha256 of the payload it
    checked.  A worker loads the file and refuses it when the payload is not
    that one (the file was replaced after the check)."""

    path: str | None
    sha256: str


_checked_paths: dict[str | None, ModelFile] = {}


def shared_model(path: str | None) -> tuple[ModelFile, Any]:
    """The model file ``path`` (``None``: the shipped model), loaded (and so
    checked) once per process, and the reference that hands it to workers:
    workers forked from this process find the model already loaded (see
    :func:`fork_pool`); workers started afresh load the file and accept only
    the payload checked here."""
    ref = _checked_paths.get(path)
    if ref is None:
        from .persistence import load_model

        model = load_model(path)
        ref = _checked_paths[path] = ModelFile(path, model.metadata_["payload_sha256"])
        _worker_models[ref] = model
    return ref, _worker_models[ref]


def _model_for(ref: ModelFile) -> Any:
    model = _worker_models.get(ref)
    if model is None:
        from .exceptions import ModelError
        from .persistence import load_model

        model = load_model(ref.path)
        if model.metadata_.get("payload_sha256") != ref.sha256:
            raise ModelError(
                f"the model file {ref.path or '(shipped)'} changed during the run: it is not the file that was "
                "checked at the start. Rerun when the file is in place; nothing else was written."
            )
        _worker_models[ref] = model
    return model


def score_chunk(
    model: Any,
    docs: Sequence[Any],
    max_chars: int | None = None,
    *,
    threshold: float | None = None,
    top: int | None = None,
) -> list[dict[str, Any]]:
    """Score one chunk: one ``classify_many`` call for its readable documents.

    Parameters
    ----------
    model : TopicModel, ModelFile, str or None
        A model, or the path of one to load (``None``: the shipped model),
        loaded once per process; a :class:`ModelFile` is loaded only if its
        payload is the one checked.
    docs : list of Document
        Or the deferred records of ``iter_documents(..., defer=True)``,
        parsed here (see :func:`arabictopics.io.resolve_documents`).
    max_chars : int or None
        Read at most this many characters per document (default: the
        model's own limit); longer documents are marked ``truncated``.
    threshold, top
        One about-threshold for every theme, and the most labels kept (see
        :meth:`arabictopics.TopicModel.classify_many`).

    Returns
    -------
    list of dict
        One record per document, in order: ``{"id", "labels", "scores",
        "mentions", "evidence"}`` (plus ``"truncated": true``) or ``{"id",
        "error"}``; a document's ``fields`` (``--keep``) follow the ``id``.
    """
    if model is None or isinstance(model, (str, os.PathLike)):
        model = shared_model(None if model is None else str(model))[0]
    if isinstance(model, ModelFile):
        model = _model_for(model)
    docs = resolve_documents(docs)
    readable = [doc for doc in docs if doc.error is None]
    texts = [doc.text for doc in readable]
    if max_chars is not None:
        texts = [text[:max_chars] for text in texts]
    results = iter(model.classify_many(texts, threshold=threshold, top=top))
    out = []
    for doc in docs:
        head = {"id": doc.id, **(doc.fields or {})}
        if doc.error is not None:
            out.append({**head, "error": doc.error})
            continue
        record = {**head, **next(results).to_dict()}
        if max_chars is not None and len(doc.text) > max_chars:
            record["truncated"] = True
        out.append(record)
    return out


def _chunks(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    """Lists of ``size`` documents.  Interrupted while reading (a Ctrl-C or
    SIGTERM while the input stalls), the documents already read are still
    handed on as a last chunk, then the interruption goes on."""
    chunk: list[Document] = []
    try:
        for doc in docs:
            chunk.append(doc)
            if len(chunk) == size:
                yield chunk
                chunk = []
    except KeyboardInterrupt:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk


def _run(fn: Callable[..., Any], chunks: Iterator[list[Document]], n_jobs: int, *args: Any) -> Iterator[Any]:
    """``fn(chunk, *args)`` for every chunk, in order, in this process
    or in ``n_jobs`` joblib worker processes (results streamed back in order)."""
    if n_jobs == 1:
        for chunk in chunks:
            yield fn(chunk, *args)
        return
    if n_jobs > 0:
        workers = n_jobs
    else:  # -1 is every core, -2 all but one...: joblib's reading, with its limits
        from joblib import effective_n_jobs

        workers = effective_n_jobs(n_jobs)
    pool = fork_pool(workers)
    if pool is not None:  # joblib is not even imported (35 ms of a small run)
        yield from _forked(pool, fn, chunks, workers, args)
        return
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=workers, return_as="generator", pre_dispatch=f"{2 * workers}", batch_size=1)
    yield from parallel(delayed(_in_worker)(fn, chunk, *args) for chunk in chunks)


def fork_pool(workers: int) -> Any:
    """A ``ProcessPoolExecutor`` of ``workers`` processes forked from this
    one, or ``None`` where the platform cannot fork.

    Forked workers start in milliseconds and inherit the models this process
    has loaded (:func:`shared_model`): with ``--jobs`` a small input is no
    longer slower than with one process, whose start-up every fresh worker
    used to repeat.  Each worker ignores Ctrl-C, takes the default action on
    SIGTERM, and ends when this process ends (see :func:`_in_worker`).

    While the pool lives, the objects of this process are frozen for its
    garbage collector (``gc.freeze``; the pool's ``shutdown`` unfreezes
    them): pages shared with the workers are then not written by
    collections walking them, each such write a copy of the page
    (copy-on-write).  On 840 articles, ``--jobs 2`` took 0.517 s instead of
    0.531 s (medians of 10 interleaved rounds).
    """
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    import gc

    gc.freeze()
    return _fork_pool_class()(workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_setup)


@functools.cache
def _fork_pool_class() -> type:
    """A ``ProcessPoolExecutor`` whose ``shutdown`` unfreezes the objects
    :func:`fork_pool` froze, and always waits for the pool's manager thread
    (built on first use: ``concurrent.futures`` is not imported by a run on
    one core).

    Why always wait: after ``shutdown(wait=False)`` the manager thread closes
    its wake-up pipe while the process goes on, and CPython 3.11's exit hook
    for executors writes to that pipe without a lock; a process ending right
    after (the command line stopped by Ctrl-C) could die with "Bad file
    descriptor" in a traceback.  The wait is for the workers' current chunks
    (the rest are cancelled), which the process waits for at exit anyway."""
    import gc
    from concurrent.futures import ProcessPoolExecutor

    class ForkPool(ProcessPoolExecutor):
        def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
            try:
                super().shutdown(True, cancel_futures=cancel_futures)
            finally:
                gc.unfreeze()

    return ForkPool


def _forked(
    pool: Any, fn: Callable[..., Any], chunks: Iterator[Any], workers: int, args: tuple[Any, ...]
) -> Iterator[Any]:
    """``fn(chunk, *args)`` in the forked ``pool`` (see :func:`fork_pool`), results in order.

    At most ``2 * workers`` chunks are in flight, so memory stays bounded
    whatever the input size.  Stopped early (an exception, or the consumer
    closing the generator), chunks not started are cancelled and the workers
    end with their current chunk, which this waits for.
    """
    from collections import deque

    pending: deque[Any] = deque()
    try:
        for chunk in chunks:
            pending.append(pool.submit(fn, chunk, *args))
            while len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(cancel_futures=True)  # waits for the chunks being scored (see _fork_pool_class)


def _in_worker(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a worker set up by :func:`_worker_setup` (joblib's workers, once per task)."""
    _worker_setup()
    return fn(*args)


def _worker_setup() -> None:
    """Make this worker process ignore Ctrl-C, and end with the process that started it.

    Ctrl-C in a terminal sends SIGINT to the whole process group; stopping is
    the main process's job (it finishes the chunk being written, then stops
    the workers).  A worker killed by SIGINT halfway through sending a result
    would leave joblib waiting for it.
    """
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker inherits the main process's handler
    _watch_parent()


_watching: list[int] = []


def _watch_parent() -> None:
    """Once per worker process: a daemon thread that ends the worker when
    the process that started it is gone, however it died (SIGTERM, SIGKILL,
    a crash), so no worker outlives a run."""
    if _watching:
        return
    import threading
    import time

    parent = os.getppid()
    _watching.append(parent)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="arabictopics-parent-watch", daemon=True).start()


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1.")


def score_documents(
    docs: Iterable[Document],
    *,
    model: Any = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_jobs: int = 1,
    max_chars: int | None = None,
    threshold: float | None = None,
    top: int | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Score documents chunk by chunk; yields each chunk's records in order.

    Parameters
    ----------
    docs : iterable of Document
        Consumed lazily; may hold the deferred records of
        ``iter_documents(..., defer=True)``, parsed by whoever scores them.
    model : TopicModel, path or None, default=None
        With ``n_jobs != 1`` pass a path (or ``None`` for the shipped model)
        so that workers load the model themselves, once each.
    chunk_size : int, default=256
    n_jobs : int, default=1
        Worker processes; ``-1`` uses every core.
    max_chars, threshold, top
        See :func:`score_chunk`.

    Yields
    ------
    list of dict
        The records of one chunk (see :func:`score_chunk`).
    """
    _check_chunk_size(chunk_size)
    yield from _run(_score_records, _chunks(docs, chunk_size), n_jobs, model, max_chars, threshold, top)


def _score_records(
    chunk: list[Document], model: Any, max_chars: int | None, threshold: float | None, top: int | None
) -> list[dict[str, Any]]:
    return score_chunk(model, chunk, max_chars, threshold=threshold, top=top)


@dataclass(frozen=True)
class FormattedChunk:
    """One scored chunk, written out.

    Attributes
    ----------
    text : str
        The chunk's records in the output format (for ``json``: the records
        joined by ``",\n"``, without the surrounding brackets).
    n_records : int
        Records in ``text``.
    n_failed : int
        Of those, records with an ``error``.
    stopped_at : dict or None
        With ``strict``: the first failed record; ``text`` then holds only
        the records before it.
    """

    text: str
    n_records: int
    n_failed: int
    stopped_at: dict[str, Any] | None = None


def _format_chunk(
    chunk: list[Document],
    model: Any,
    max_chars: int | None,
    fmt: str,
    labels: Sequence[str],
    strict: bool,
    threshold: float | None = None,
    top: int | None = None,
    keep: Sequence[str] = (),
    cuts: Sequence[float] | None = None,
    width: int | None = None,
) -> FormattedChunk:
    records = score_chunk(model, chunk, max_chars, threshold=threshold, top=top)
    stopped_at = None
    if strict:
        bad = next((i for i, record in enumerate(records) if "error" in record), None)
        if bad is not None:
            stopped_at = records[bad]
            records = records[:bad]
    failed = sum(1 for record in records if "error" in record)
    if fmt == "json":
        text = ",\n".join(json.dumps(record, ensure_ascii=False) for record in records)
    else:
        buffer = io.StringIO()
        write_records(records, buffer, fmt, labels, header=False, keep=keep, thresholds=cuts, width=width)
        text = buffer.getvalue()
    return FormattedChunk(text, len(records), failed, stopped_at)


def score_formatted(
    docs: Iterable[Document],
    *,
    fmt: str,
    labels: Sequence[str],
    model: Any = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_jobs: int = 1,
    max_chars: int | None = None,
    strict: bool = False,
    threshold: float | None = None,
    top: int | None = None,
    keep: Sequence[str] = (),
    thresholds: Sequence[float] | None = None,
    width: int | None = None,
) -> Iterator[FormattedChunk]:
    """Score documents and format the records, chunk by chunk, in order.

    Like :func:`score_documents`, but each chunk comes back as output text
    (see :func:`arabictopics.io.write_records`; headers are the caller's),
    formatted where it was scored.  With ``strict`` the stream ends at the
    first failed record.

    Parameters
    ----------
    docs : iterable of Document
    fmt : {"jsonl", "json", "csv", "tsv", "table"}
    labels : sequence of str
        The model's themes (CSV/TSV columns).
    model, chunk_size, n_jobs, max_chars, threshold, top
        As in :func:`score_documents`.
    strict : bool, default=False
    keep : sequence of str, default=()
        The documents' kept fields (CSV/TSV columns after ``id``).
    thresholds : sequence of float or None, default=None
        The about-threshold of each theme, in ``labels`` order, shown
        beside each label's score in the ``table`` format.
    width : int or None, default=None
        The ``table``'s width in columns (default:
        :data:`arabictopics.io.TABLE_WIDTH`).

    Yields
    ------
    FormattedChunk
    """
    _check_chunk_size(chunk_size)
    chunks = _run(
        _format_chunk,
        _chunks(docs, chunk_size),
        n_jobs,
        model,
        max_chars,
        fmt,
        list(labels),
        strict,
        threshold,
        top,
        tuple(keep),
        None if thresholds is None else [float(t) for t in thresholds],
        width,
    )
    for chunk in chunks:
        yield chunk
        if chunk.stopped_at is not None:
            return
