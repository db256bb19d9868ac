"""The HTTP service and its page: ``arabictopics serve`` (the ``[serve]`` extra).

:func:`create_app` builds a Starlette (ASGI) application around one model,
from the public API only; ``arabictopics serve`` parses its options and runs
it with uvicorn.

Endpoints
---------
``POST /v1/classify``
    ``{"text": ..., "id": ...}`` gives one record, ``{"articles": [{"id",
    "text"}, ...]}`` gives ``{"results": [...]}``: the records ``arabictopics
    classify`` writes in JSONL (``id``, ``labels``, ``scores``, ``mentions``,
    ``evidence``, and ``"truncated": true`` for an article longer than the
    model reads).  ``"with_text": true`` on a single article adds ``text``,
    the article as read (HTML removed), from which every evidence sentence is
    quoted.  With ``Content-Type: application/x-ndjson`` the body is JSONL
    and so is the answer, streamed in order, one output line per non-blank
    input line (a line that cannot be read gets ``{"id", "error"}``), in
    bounded memory: ``--max-body`` then limits each line, not the stream.
``GET /v1/themes``, ``GET /v1/model``
    The model's themes (with thresholds and the taxonomy's names) and its
    metadata.
``GET /healthz``, ``GET /readyz``
    The process answers; the model is loaded and the server is not shutting
    down.
``GET /metrics``
    Prometheus text format: requests, articles, latency, errors by kind.
``GET /``
    A page (package data, no network): paste or drop an article, see its
    themes and the sentences behind them.

With ``workers=N`` (``serve --workers N``) one process reads HTTP and N
worker processes, forked from it with the model loaded, score the articles
of every request a chunk at a time, whichever is free: as ``classify --jobs``
does, and unlike N server processes each with its own connections, which
keep-alive clients spread unevenly.

A client's mistake is a JSON ``{"error", "kind"}`` with a 4xx status that
says whose fault it is (400 malformed JSON, 413 body over ``max_body``, 415
content type, 422 a well-formed body that is not a request); a server fault
is a JSON 500, logged with its traceback, never sent.  A client that
disconnects cancels its request between chunks of articles.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from importlib import resources
from typing import Any

try:
    import anyio
    import anyio.to_thread
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import Response
    from starlette.routing import Route
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        f'arabictopics.serve needs the [serve] extra ({_exc.name} is not installed): pip install "arabictopics[serve]"'
    ) from _exc

__all__ = ["DEFAULT_MAX_BODY", "create_app"]

#: Largest request body read (``--max-body``); for JSONL streams, the largest line.
DEFAULT_MAX_BODY = 32 * 1024 * 1024
#: Articles a request queues at a time: a cancelled request stops between two.
_CHUNK = 64
#: Most articles scored in one call to the model (one chunk, pieces of several requests): as ``classify``'s chunks.
_BATCH = 256
#: A JSONL stream is scored when this many bytes of lines are waiting, or when the input pauses this long (s).
_STREAM_BYTES = 4 * 1024 * 1024
_PAUSE = 0.01
_ROUTES = ("/", "/app.js", "/style.css", "/v1/classify", "/v1/themes", "/v1/model", "/healthz", "/readyz", "/metrics")
_NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_PAGE_FILES = {
    "/": ("index.html", "text/html"),
    "/app.js": ("app.js", "text/javascript"),
    "/style.css": ("style.css", "text/css"),
}
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: Scope keys where an endpoint leaves, for the access log and the metrics, the number of articles of its
#: request, and the status to report when it is not the one sent (499: the client left mid-stream).
_ARTICLES, _STATUS = "arabictopics.articles", "arabictopics.status"

_log = logging.getLogger("arabictopics.serve")
_access = logging.getLogger("arabictopics.access")


class _ClientError(Exception):
    """The client's mistake: answered as ``{"error", "kind"}`` with ``status``."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def _json_bytes(value: Any) -> bytes:
    # An unpaired surrogate (a "\ud800" escape in an id) is written back as its escape: still valid JSON.
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "backslashreplace")


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_json_bytes(value), status, headers, media_type="application/json")


class _Metrics:
    """The service's Prometheus metrics, in a registry of their own (two apps in one process do not clash)."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "arabictopics_requests", "HTTP requests answered", ("method", "route", "status"), registry=registry
        )
        self.articles = Counter("arabictopics_articles", "Articles scored", registry=registry)
        self.errors = Counter(
            "arabictopics_errors", "Requests or stream records that failed, by kind", ("kind",), registry=registry
        )
        self.latency = Histogram(
            "arabictopics_request_duration_seconds",
            "Time from request to the end of the response",
            ("route",),
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


#: Models of the apps with scoring workers, by key: forked workers find theirs here.
_FORKED_MODELS: dict[int, Any] = {}


def _records(model: Any, ids: Sequence[str | None], texts: Sequence[str], with_text: Sequence[bool]) -> list[bytes]:
    """Each article's record, as the CLI writes it, in JSON (``with_text``: plus the article as read)."""
    out = []
    limit = model.max_chars
    for rid, text, wanted, result in zip(ids, texts, with_text, model.classify_many(list(texts))):
        record = {"id": rid, **result.to_dict()}
        if wanted:
            from .text import strip_html

            record["text"] = strip_html(text if limit is None else text[:limit])
        out.append(_json_bytes(record))
    return out


def _forked_records(
    key: int, ids: Sequence[str | None], texts: Sequence[str], with_text: Sequence[bool]
) -> list[bytes]:
    return _records(_FORKED_MODELS[key], ids, texts, with_text)


class _Batcher:
    """Pending articles, scored a chunk at a time with at most ``slots`` chunks in flight.

    Requests queue their articles in pieces of at most ``_CHUNK``; each chunk
    sent to be scored takes the pieces waiting, in order, up to ``_BATCH``
    articles: concurrent requests are scored together (one ``classify_many``
    call), and the busier the scorers, the larger the chunks.  A piece whose
    request was cancelled is dropped unscored."""

    def __init__(self, score: Any, slots: int, on_scored: Any) -> None:
        import asyncio

        self.score, self.on_scored = score, on_scored
        self.pieces: deque[tuple[list[str | None], list[str], bool, Any]] = deque()
        self.waiting = asyncio.Event()
        self.slots = asyncio.Semaphore(slots)
        self.running: set[Any] = set()

    def put(self, ids: list[str | None], texts: list[str], with_text: bool, future: Any) -> None:
        self.pieces.append((ids, texts, with_text, future))
        self.waiting.set()

    async def run(self) -> None:
        import asyncio

        while True:
            await self.slots.acquire()
            chunk: list[tuple[list[str | None], list[str], bool, Any]] = []
            size = 0
            while not chunk:
                while not self.pieces:
                    self.waiting.clear()
                    await self.waiting.wait()
                while self.pieces and (not chunk or size + len(self.pieces[0][1]) <= _BATCH):
                    piece = self.pieces.popleft()
                    if not piece[3].done():  # else its request was cancelled
                        chunk.append(piece)
                        size += len(piece[1])
            task = asyncio.ensure_future(self._score(chunk))
            self.running.add(task)
            task.add_done_callback(self.running.discard)

    async def _score(self, chunk: list[tuple[list[str | None], list[str], bool, Any]]) -> None:
        try:
            ids = [rid for piece in chunk for rid in piece[0]]
            texts = [text for piece in chunk for text in piece[1]]
            flags = [piece[2] for piece in chunk for _ in piece[1]]
            try:
                records = await self.score(ids, texts, flags)
            except Exception as exc:
                for piece in chunk:
                    if not piece[3].done():
                        piece[3].set_exception(exc)
                return
            self.on_scored(len(texts))
            start = 0
            for piece in chunk:
                if not piece[3].done():
                    piece[3].set_result(records[start : start + len(piece[1])])
                start += len(piece[1])
        finally:
            self.slots.release()


def _ready_worker() -> int:
    return os.getpid()


class _Service:
    """One model, the limits, the metrics and the page: what the endpoints share."""

    def __init__(self, model: Any, max_body: int, workers: int) -> None:
        self.model = model
        self.max_body = max_body
        self.workers = workers
        self.labels = [str(label) for label in model.classes_]
        self.metrics = _Metrics()
        # Scoring in this process holds the GIL most of the time: two threads keep it busy, more only queue.
        self.limiter = anyio.CapacityLimiter(2)
        self.pool: Any = None
        self.batcher: _Batcher | None = None
        self.dispatcher: Any = None
        self.broken: str | None = None
        self.draining = False
        self.in_flight = 0
        web = resources.files("arabictopics").joinpath("web")
        self.page = {path: (web.joinpath(name).read_bytes(), kind) for path, (name, kind) in _PAGE_FILES.items()}

    # ---------------------------------------------------------------- scoring

    def start(self) -> None:
        """Start scoring: with ``workers > 1`` on a platform that forks, fork the scoring workers now,
        before the server runs threads (they inherit the loaded model); else score in this process."""
        import asyncio

        from .scoring import fork_pool

        if self.workers > 1:
            _FORKED_MODELS[id(self)] = self.model
            self.pool = fork_pool(self.workers)
        if self.pool is not None:
            started = [self.pool.submit(_ready_worker) for _ in range(self.workers)]
            pids = ", ".join(str(f.result()) for f in started)
            _log.info("scoring in %d worker processes (%s)", self.workers, pids)
        # two chunks in flight per scorer, as classify --jobs: each finds the next one waiting
        slots = 2 * self.workers if self.pool is not None else 2
        self.batcher = _Batcher(self._score, slots, self.metrics.articles.inc)
        self.dispatcher = asyncio.ensure_future(self.batcher.run())

    def stop(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.cancel()
            self.dispatcher = self.batcher = None
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)  # the chunks being scored end first (see scoring.fork_pool)
            self.pool = None
        _FORKED_MODELS.pop(id(self), None)

    async def _score(self, ids: list[str | None], texts: list[str], with_text: list[bool]) -> list[bytes]:
        if self.pool is None:
            return await anyio.to_thread.run_sync(_records, self.model, ids, texts, with_text, limiter=self.limiter)
        import asyncio
        from concurrent.futures.process import BrokenProcessPool

        try:
            future = self.pool.submit(_forked_records, id(self), ids, texts, with_text)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            self.broken = (
                "a scoring worker process died (most likely the system ran out of memory and killed it): "
                "restart the server, with fewer --workers if it happens again."
            )
            raise

    async def classify(self, ids: list[str | None], texts: list[str], with_text: bool = False) -> list[bytes]:
        """Each article's JSON record, in order.  Cancelling the caller drops the articles not yet sent
        to be scored."""
        if self.batcher is None:  # the app runs without its lifespan (mounted in another app): no batching
            out: list[bytes] = []
            for start in range(0, len(texts), _CHUNK):
                piece = texts[start : start + _CHUNK]
                out += await self._score(ids[start : start + _CHUNK], piece, [with_text] * len(piece))
                self.metrics.articles.inc(len(piece))
            return out
        import asyncio

        loop = asyncio.get_running_loop()
        futures = []
        try:
            for start in range(0, len(texts), _CHUNK):
                futures.append(loop.create_future())
                self.batcher.put(ids[start : start + _CHUNK], texts[start : start + _CHUNK], with_text, futures[-1])
            out = []
            for future in futures:
                out += await future
            return out
        finally:
            for future in futures:
                future.cancel()  # a no-op for those already scored

    # ---------------------------------------------------------------- reading requests

    async def body(self, request: Request) -> bytes:
        """The whole body, refused (413) past ``max_body`` before it is all read when its length is declared."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise self._too_large(int(declared))
        parts, size = [], 0
        async for part in request.stream():
            size += len(part)
            if size > self.max_body:
                raise self._too_large(None)
            parts.append(part)
        return b"".join(parts)

    def _too_large(self, size: int | None) -> _ClientError:
        what = f"{size} bytes" if size is not None else "more"
        return _ClientError(
            413,
            "body_too_large",
            f"the request body is {what}, over the server's limit of {self.max_body} bytes: send fewer articles per "
            "request, stream them as JSONL (Content-Type: application/x-ndjson; the limit then applies to each line), "
            "or start the server with a larger --max-body.",
        )


def _parse_json(raw: bytes) -> Any:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _ClientError(
            400, "malformed_json", f"the body is not UTF-8 (byte {exc.start}): send UTF-8 JSON."
        ) from None
    if not text.strip():
        raise _ClientError(400, "malformed_json", 'the body is empty: send {"text": "..."} or {"articles": [...]}.')
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _ClientError(400, "malformed_json", f"the body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise _ClientError(400, "malformed_json", "the body is not valid JSON: nested too deeply.") from None


def _check_text(text: Any, where: str) -> str:
    """``text``, or the reason it cannot be scored: ``(kind, message)`` raised as a 422."""
    if text is None:
        raise _ClientError(
            422, "missing_text", f'{where} has no "text": send the article as {{"text": "...", "id": ...}}.'
        )
    if not isinstance(text, str):
        raise _ClientError(
            422,
            "text_not_string",
            f'{where}: "text" is {_json_type(text)}, not a string: send the article as a string.',
        )
    bad = _SURROGATE_RE.search(text)
    if bad is not None:
        raise _ClientError(
            422,
            "invalid_text",
            f'{where}: "text" holds an unpaired surrogate U+{ord(bad.group()):04X} at character {bad.start()} '
            "(a lone \\ud800-\\udfff escape), which is not Unicode text: fix the encoding of the article.",
        )
    return text


def _check_id(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _ClientError(422, "invalid_id", f'{where}: "id" is {_json_type(value)}: give a string or a number.')
    return str(value)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", bool: "a boolean", int: "a number", float: "a number"}
    return names.get(type(value), "a string" if isinstance(value, str) else "null")


def _articles(payload: Any) -> tuple[list[str | None], list[str], bool]:
    """The ids and texts of a JSON request, and whether it was a batch."""
    usage = 'send {"text": "...", "id": ...} for one article or {"articles": [{"id": ..., "text": "..."}, ...]}.'
    if not isinstance(payload, dict):
        raise _ClientError(422, "invalid_request", f"the body is {_json_type(payload)}, not an object: {usage}")
    if "articles" not in payload:
        return [_check_id(payload.get("id"), "the body")], [_check_text(payload.get("text"), "the body")], False
    items = payload["articles"]
    if not isinstance(items, list):
        raise _ClientError(422, "invalid_request", f'"articles" is {_json_type(items)}, not an array: {usage}')
    ids, texts = [], []
    for i, item in enumerate(items):
        where = f"articles[{i}]"
        if not isinstance(item, dict):
            raise _ClientError(422, "invalid_request", f"{where} is {_json_type(item)}, not an object: {usage}")
        ids.append(_check_id(item.get("id"), where))
        texts.append(_check_text(item.get("text"), where))
    return ids, texts, True


# -------------------------------------------------------------------- JSONL streams


class _Line:
    """One line of a JSONL stream: its number and bytes, or ``None`` for a line over the limit."""

    __slots__ = ("lineno", "raw")

    def __init__(self, lineno: int, raw: bytes | None) -> None:
        self.lineno, self.raw = lineno, raw


async def _stream_lines(request: Request, limit: int) -> AsyncIterator[list[_Line]]:
    """The stream's lines in batches, in order, blank lines dropped.

    A batch is handed on when it holds ``_CHUNK`` lines or ``_STREAM_BYTES``
    bytes, or when the client sends nothing more for a moment, so a slow
    producer gets its answers line by line and a fast one in full chunks.
    Raises :class:`ClientDisconnect` when the client goes away."""
    buffer = bytearray()
    over = False
    lineno = 0
    batch: list[_Line] = []
    size = 0
    more = True

    def finish(raw: bytes) -> None:
        nonlocal lineno, over, size
        lineno += 1
        if over:
            batch.append(_Line(lineno, None))
        elif raw.strip():
            batch.append(_Line(lineno, raw))
            size += len(raw)
        over = False

    while more:
        message = None
        if batch:
            with anyio.move_on_after(_PAUSE):
                message = await request.receive()
            if message is None:  # the client pauses: answer what it sent
                yield batch
                batch, size = [], 0
                continue
        else:
            message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        piece = message.get("body", b"")
        more = message.get("more_body", False)
        start = 0
        while True:
            end = piece.find(b"\n", start)
            if end < 0:
                if not over:
                    buffer += piece[start:]
                    if len(buffer) > limit:
                        over = True
                        buffer.clear()
                break
            if not over:
                buffer += piece[start:end]
                if len(buffer) > limit:
                    over = True
            finish(bytes(buffer))
            buffer.clear()
            start = end + 1
            if len(batch) >= _CHUNK or size >= _STREAM_BYTES:
                yield batch
                batch, size = [], 0
    if buffer or over:
        finish(bytes(buffer))
    if batch:
        yield batch


def _line_record(line: _Line, limit: int) -> tuple[str | None, str | None, str | None]:
    """``(id, text, error)`` of one JSONL line, with the CLI's messages."""
    n = line.lineno
    if line.raw is None:
        return None, None, f"line {n}: longer than the server's limit of {limit} bytes per line (--max-body)"
    raw = line.raw[3:] if n == 1 and line.raw.startswith(b"\xef\xbb\xbf") else line.raw
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, None, f"line {n}: not valid utf-8 (byte {exc.start})"
    try:
        record = json.loads(decoded)
    except ValueError as exc:
        return None, None, f"line {n}: not valid JSON ({getattr(exc, 'msg', exc)})"
    except RecursionError:
        return None, None, f"line {n}: not valid JSON (nested too deeply)"
    if not isinstance(record, dict):
        return None, None, f"line {n}: expected a JSON object with 'text'"
    try:
        rid = _check_id(record.get("id"), f"line {n}")
        return rid, _check_text(record.get("text"), f"line {n}"), None
    except _ClientError as exc:
        return _check_id_quietly(record.get("id")), None, exc.message


def _check_id_quietly(value: Any) -> str | None:
    try:
        return _check_id(value, "")
    except _ClientError:
        return None


class _JsonlResponse:
    """A streamed JSONL answer to a JSONL request body, read as it is answered.

    Not a Starlette ``StreamingResponse``: that one listens for the client's
    disconnect on the same channel the request body comes in on.  Here a
    disconnect ends the body, and so the work (:class:`ClientDisconnect`)."""

    def __init__(self, service: _Service, request: Request) -> None:
        self.service, self.request = service, request

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        service, limit = self.service, self.service.max_body
        started = False
        n = 0
        try:
            async for batch in _stream_lines(self.request, limit):
                parsed = [_line_record(line, limit) for line in batch]
                good = [(rid, text) for rid, text, error in parsed if error is None]
                results = iter(await service.classify([r for r, _ in good], [t for _, t in good]) if good else [])
                out = bytearray()
                for rid, _, error in parsed:
                    if error is not None:
                        service.metrics.errors.labels("stream_record").inc()
                        out += _json_bytes({"id": rid, "error": error})
                    else:
                        out += next(results)
                    out += b"\n"
                n += len(parsed)
                if not started:
                    await send(self._start())
                    started = True
                await send({"type": "http.response.body", "body": bytes(out), "more_body": True})
        except ClientDisconnect:
            service.metrics.errors.labels("cancelled").inc()
            scope[_ARTICLES], scope[_STATUS] = n, 499
            return
        scope[_ARTICLES] = n
        if not started:
            await send(self._start())
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    def _start() -> dict[str, Any]:
        return {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/x-ndjson; charset=utf-8")],
        }


# -------------------------------------------------------------------- endpoints


async def _until_disconnected(request: Request) -> None:
    """Returns when the client goes away (the body has been read by then)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def _classify(request: Request) -> Any:
    service: _Service = request.app.state.service
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind in _NDJSON_TYPES:
        return _JsonlResponse(service, request)
    if kind and kind != "application/json" and not kind.endswith("+json"):
        raise _ClientError(
            415,
            "unsupported_media_type",
            f"Content-Type {kind} is not read here: send application/json (one article or a batch) or "
            "application/x-ndjson (a JSONL stream).",
        )
    payload = _parse_json(await service.body(request))
    ids, texts, batch = _articles(payload)
    with_text = not batch and payload.get("with_text") is True
    results: list[bytes] | None = None
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            await _until_disconnected(request)
            group.cancel_scope.cancel()  # the client left before the answer: the remaining chunks are not scored

        group.start_soon(watch)
        results = await service.classify(ids, texts, with_text)
        group.cancel_scope.cancel()
    request.scope[_ARTICLES] = len(texts)
    if results is None:
        service.metrics.errors.labels("cancelled").inc()
        return Response(status_code=499)  # nginx's "client closed request": never sent, only logged and counted
    body = b'{"results": [' + b", ".join(results) + b"]}" if batch else results[0]
    return Response(body, media_type="application/json")


async def _themes(request: Request) -> Response:
    service: _Service = request.app.state.service
    from .taxonomy import load_taxonomy

    known = {theme.label: theme for theme in load_taxonomy()}
    thresholds = [float(t) for t in service.model.thresholds_]
    out = []
    for label, threshold in zip(service.labels, thresholds):
        entry: dict[str, Any] = {"label": label, "threshold": round(threshold, 6)}
        theme = known.get(label)
        if theme is not None:
            entry.update(name_en=theme.name_en, name_ar=theme.name_ar, covers=theme.covers, excludes=theme.excludes)
        out.append(entry)
    return _json({"themes": out})


async def _model_info(request: Request) -> Response:
    service: _Service = request.app.state.service
    meta = getattr(service.model, "metadata_", None) or {}
    return _json({"labels": service.labels, "max_chars": service.model.max_chars, "metadata": meta})


async def _healthz(request: Request) -> Response:
    return _json({"status": "ok"})


async def _readyz(request: Request) -> Response:
    service: _Service = request.app.state.service
    if service.draining:
        return _json({"status": "shutting down"}, 503)
    if service.broken:
        return _json({"status": "broken", "error": service.broken}, 503)
    return _json({"status": "ready", "themes": len(service.labels), "in_flight": service.in_flight - 1})


async def _metrics(request: Request) -> Response:
    service: _Service = request.app.state.service
    return Response(service.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


async def _page(request: Request) -> Response:
    service: _Service = request.app.state.service
    body, kind = service.page[request.url.path]
    headers = {
        "Content-Security-Policy": _PAGE_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }
    return Response(body, media_type=f"{kind}; charset=utf-8", headers=headers)


# -------------------------------------------------------------------- errors, access log, metrics


async def _client_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _ClientError)
    request.app.state.service.metrics.errors.labels(exc.kind).inc()
    return _json({"error": exc.message, "kind": exc.kind}, exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
    request.app.state.service.metrics.errors.labels(kind).inc()
    message = {
        404: f"no such endpoint: {request.url.path}. The endpoints are {', '.join(_ROUTES)}.",
        405: f"{request.method} is not allowed on {request.url.path}: use {(exc.headers or {}).get('Allow', 'GET')}.",
    }.get(exc.status_code, str(exc.detail))
    return _json({"error": message, "kind": kind}, exc.status_code, dict(exc.headers or {}))


async def _server_error(request: Request, exc: Exception) -> Response:
    _log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    request.app.state.service.metrics.errors.labels("internal").inc()
    return _json({"error": "internal server error: the server's log has the details.", "kind": "internal"}, 500)


class _Observe:
    """ASGI middleware: the access log line and the request metrics of every HTTP request."""

    def __init__(self, app: Any, service: _Service) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        service = self.service
        begin = time.perf_counter()
        status = 500

        async def observed(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        service.in_flight += 1
        try:
            await self.app(scope, receive, observed)
        finally:
            service.in_flight -= 1
            elapsed = time.perf_counter() - begin
            status = scope.get(_STATUS, status)
            route = scope["path"] if scope["path"] in _ROUTES else "other"
            service.metrics.requests.labels(scope["method"], route, str(status)).inc()
            service.metrics.latency.labels(route).observe(elapsed)
            client = scope.get("client")
            articles = scope.get(_ARTICLES)
            _access.info(
                '%s - "%s %s HTTP/%s" %d%s %.1f ms',
                f"{client[0]}:{client[1]}" if client else "-",
                scope["method"],
                scope.get("raw_path", b"").decode("latin-1") or scope["path"],
                scope.get("http_version", "1.1"),
                status,
                f" {articles} article(s)" if articles is not None else "",
                elapsed * 1000,
            )


# -------------------------------------------------------------------- the app


def create_app(model: Any = None, *, max_body: int = DEFAULT_MAX_BODY, workers: int = 1) -> Starlette:
    """The ASGI application of ``arabictopics serve``, around one model.

    Parameters
    ----------
    model : TopicModel, str, path-like or None, default=None
        A loaded model, or the ``.atm`` file of one (loaded and checked here,
        once); ``None`` is the shipped model.
    max_body : int, default=DEFAULT_MAX_BODY
        Largest request body read, in bytes (32 MiB); a larger one is
        answered 413.  For a JSONL stream, the largest line: a longer line
        gets an error record.
    workers : int, default=1
        Processes that score.  With 1, scoring runs in this process (in a
        thread, so the server keeps answering).  With more, where the
        platform forks, that many worker processes are forked from this one
        when the server starts (they inherit the loaded model) and score
        every request's articles, a chunk of 64 at a time, whichever worker
        is free: one process reads HTTP, as ``classify --jobs`` reads input.

    Returns
    -------
    starlette.applications.Starlette
        Run it with any ASGI server (``uvicorn.run(app)``), or test it with
        ``starlette.testclient.TestClient(app)``.

    Raises
    ------
    ModelError
        When the model file cannot be loaded (see :func:`arabictopics.load_model`).

    Examples
    --------
    >>> from starlette.testclient import TestClient  # doctest: +SKIP
    >>> client = TestClient(create_app())  # doctest: +SKIP
    >>> article = {"id": "a1", "text": "ضبط شحنة كبتاغون في منفذ جابر الحدودي"}
    >>> client.post("/v1/classify", json=article).json()["labels"]  # doctest: +SKIP
    ['drugs', 'border_security']
    """
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1:
        raise ValueError(f"max_body must be a positive number of bytes, got {max_body!r}.")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number of at least 1, got {workers!r}.")
    if model is None or isinstance(model, (str, os.PathLike)):
        from .persistence import load_model

        model = load_model(model)
    service = _Service(model, max_body, workers)

    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.start()
        service.draining = False
        try:
            yield
        finally:
            service.draining = True
            service.stop()

    routes = [
        Route("/v1/classify", _classify, methods=["POST"]),
        Route("/v1/themes", _themes, methods=["GET"]),
        Route("/v1/model", _model_info, methods=["GET"]),
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/readyz", _readyz, methods=["GET"]),
        Route("/metrics", _metrics, methods=["GET"]),
        *(Route(path, _page, methods=["GET"]) for path in _PAGE_FILES),
    ]
    from contextlib import asynccontextmanager

    app = Starlette(
        routes=routes,
        middleware=[Middleware(_Observe, service=service)],
        exception_handlers={_ClientError: _client_error, HTTPException: _http_error, Exception: _server_error},
        lifespan=asynccontextmanager(lifespan),
    )
    app.state.service = service
    return app


def _log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, plus this module's loggers (the
    access log replaces uvicorn's: it adds the articles and the time)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["arabictopics"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")
