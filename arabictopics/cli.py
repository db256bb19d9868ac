"""Command line: ``arabictopics COMMAND ...`` (also ``python -m arabictopics``).

A thin layer over the public API.  Exit codes:

* ``0`` -- everything was done;
* ``1`` -- the run finished but some input records failed (each has an
  error record in the output);
* ``2`` -- usage error, or an error that stopped the run (bad model file,
  invalid training data, unreadable output path): nothing was written;
* ``130`` -- interrupted (Ctrl-C); results completed so far were written.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import stat
import sys
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["main"]

_OUTPUT_FORMATS = ("table", "json", "jsonl", "csv", "tsv")


class _UsageError(Exception):
    pass


# --------------------------------------------------------------------------
# classify
# --------------------------------------------------------------------------


def _progress(quiet: bool, desc: str, total_bytes: int | None = None):
    """A progress bar on stderr when it is a terminal: in bytes of input
    (with a percentage and an ETA) when ``total_bytes`` is known, else in
    articles."""
    if quiet or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    if total_bytes:
        return tqdm(desc=desc, total=total_bytes, unit="B", unit_scale=True, file=sys.stderr, dynamic_ncols=True)
    return tqdm(desc=desc, unit=" articles", file=sys.stderr, dynamic_ncols=True)


def _advance(bar: Any, articles: int, read: Any) -> None:
    """Move ``bar`` on: to the bytes read so far (a bar in bytes, with the
    article count beside it), or by ``articles``."""
    if bar is None:
        return
    if bar.total:
        bar.set_postfix_str(f"{bar.postfix_articles + articles} articles", refresh=False)
        bar.postfix_articles += articles
        bar.update(min(read.n, bar.total) - bar.n)
    else:
        bar.update(articles)


#: Output keys a --keep field may not take.
_RECORD_KEYS = ("id", "labels", "scores", "mentions", "evidence", "truncated", "error")


def _keep_fields(value: str | None) -> tuple[str, ...]:
    fields = tuple(dict.fromkeys(name.strip() for name in (value or "").split(",") if name.strip()))
    clash = [name for name in fields if name in _RECORD_KEYS]
    if clash:
        raise _UsageError(
            f"--keep {clash[0]} would overwrite the output's own {clash[0]!r} field; the output already has "
            f"{', '.join(_RECORD_KEYS)}. Keep other fields only (the id is always kept)."
        )
    return fields


def _table_width() -> int | None:
    import shutil

    return shutil.get_terminal_size((0, 0)).columns or None if sys.stdout.isatty() else None


class _Terminated(KeyboardInterrupt):
    """SIGTERM (what systemd, Docker and Kubernetes send): stop now, as a
    second Ctrl-C does, and exit 143."""


class _DeferredInterrupt:
    """Within ``with``: the first Ctrl-C only sets a flag (checked between
    chunks, so no record is cut in half); a second one, or SIGTERM,
    interrupts at once, except while a chunk is being written
    (:meth:`writing`), where it waits for the write to end.  A no-op outside
    the main thread, where signals cannot be handled."""

    def __init__(self) -> None:
        self.flag = self.terminated = self.urgent = False
        self._writing = False
        self._previous: dict[int, Any] = {}

    def __bool__(self) -> bool:
        return self.flag

    def _handle(self, signum: int, frame: Any) -> None:
        if not self.flag:
            self.flag = True
            print("arabictopics: stopping after the current chunk (Ctrl-C again to stop now)...", file=sys.stderr)
            return
        self.urgent = True
        if not self._writing:
            raise KeyboardInterrupt

    def _terminate(self, signum: int, frame: Any) -> None:
        self.flag = self.terminated = self.urgent = True
        if not self._writing:
            raise _Terminated

    def stop(self) -> BaseException:
        """The exception that ends the run at a chunk boundary, once the flag is set."""
        return _Terminated() if self.terminated else KeyboardInterrupt()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """A section that signals never cut: they are acted on when it ends."""
        self._writing = True
        try:
            yield
        finally:
            self._writing = False
        if self.urgent:
            raise self.stop()

    def __enter__(self) -> _DeferredInterrupt:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._handle)
            self._previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._terminate)
        return self

    def __exit__(self, *exc: Any) -> None:
        import signal

        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


def _no_articles(sources: list[str]) -> str:
    from .io import DIRECTORY_SUFFIXES

    return (
        f"no input articles found in {', '.join(sources)}: nothing was read, nothing written. A directory is searched "
        f"recursively for {', '.join('*' + s for s in DIRECTORY_SUFFIXES)} (text and HTML files are one article each; "
        "JSONL, CSV and TSV files one per record), a file is read by its suffix or --input-format, and a data file "
        "needs at least one record."
    )


def _worker_died(exc: BaseException) -> bool:
    """Whether ``exc`` says that a worker process of ``--jobs`` died (killed by the OOM killer, ``kill -9``)."""
    return type(exc).__name__ in ("TerminatedWorkerError", "BrokenProcessPool")


def _cmd_classify(args: argparse.Namespace) -> int:
    from .io import AtomicOutput, write_records
    from .scoring import score_formatted

    sources = args.inputs or ["-"]
    if sources == ["-"] and sys.stdin.isatty() and not os.environ.get("CI"):
        print("arabictopics: reading an article from standard input (end with Ctrl-D)...", file=sys.stderr)
    keep = _keep_fields(args.keep)
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise _UsageError(f"--threshold {args.threshold} is not a probability: give a number from 0 to 1.")
    from .io import BytesRead, input_size

    read = BytesRead()
    # parsed where they are scored (by the workers with --jobs)
    docs = _documents(args, sources, defer=True, keep=keep, bytes_read=read)
    total = input_size(sources)
    from .scoring import DEFAULT_CHUNK_SIZE

    n_jobs = _usable_jobs(args.jobs)
    chunk_size = args.chunk_size or DEFAULT_CHUNK_SIZE
    if n_jobs > 1 and total is not None:  # files (never a stream that may stall): how many chunks?
        docs, n_jobs, chunk_size = _jobs_for_chunks(docs, n_jobs, args.chunk_size)
    if n_jobs == 1:
        from .persistence import load_model

        model_ref: Any = load_model(args.model)  # fail early (and once) on a bad model file
        labels = [str(label) for label in model_ref.classes_]
        limit = model_ref.max_chars
        cuts = [float(t) for t in model_ref.thresholds_]
    else:
        from .scoring import shared_model

        # Loaded (and so checked) here, once: forked workers inherit it; workers started afresh load the
        # file themselves and accept only the payload checked here.
        model_ref, shared = shared_model(args.model)
        meta = shared.metadata_
        labels = meta["labels"]
        limit = meta.get("max_chars")  # recorded by this version; older files are not checked here
        cuts = [float(t) for t in meta["thresholds"]]
    if args.threshold is not None:
        cuts = [args.threshold] * len(labels)
    if args.max_chars is not None and limit is not None and args.max_chars > limit:
        raise _UsageError(
            f"--max-chars {args.max_chars} is above the model's limit: it reads at most {limit} characters of an "
            f"article. Give {limit} or less (longer articles are scored on their beginning and marked truncated)."
        )
    fmt = args.format or ("table" if (args.output is None and sys.stdout.isatty()) else "jsonl")
    target = AtomicOutput(args.output) if args.output else None
    stream = target.stream if target else sys.stdout
    width = _table_width() if fmt == "table" and not args.output else None
    bar = _progress(args.quiet, "classify", total)
    if bar is not None:
        bar.postfix_articles = 0
    failed = written = 0
    stopped_at: dict[str, Any] | None = None
    chunks = score_formatted(
        docs,
        fmt=fmt,
        labels=labels,
        model=model_ref,
        chunk_size=chunk_size,
        n_jobs=n_jobs,
        max_chars=args.max_chars,
        strict=args.strict,
        threshold=args.threshold,
        top=args.top,
        keep=keep,
        thresholds=cuts,
        width=width,
    )
    interrupted = _DeferredInterrupt()
    header_written = False
    try:
        with interrupted:
            for chunk in chunks:
                with interrupted.writing():  # a record written is counted; none is cut
                    if bar is not None:
                        bar.clear()  # the bar (stderr) off the line before the records (stdout) go out
                    if not header_written:  # after the first chunk: the bar is on screen by then
                        if fmt == "json":
                            stream.write("[")
                        else:
                            write_records([], stream, fmt, labels, header=True, keep=keep, thresholds=cuts, width=width)
                        header_written = True
                    if chunk.n_records:
                        if fmt == "json":
                            stream.write(("\n" if not written else ",\n") + chunk.text)
                        else:
                            stream.write(chunk.text)
                        stream.flush()
                    failed += chunk.n_failed
                    written += chunk.n_records
                    _advance(bar, chunk.n_records, read)
                    stopped_at = chunk.stopped_at
                if interrupted:
                    raise interrupted.stop()
            if not written and stopped_at is None:
                raise _UsageError(_no_articles(sources))
            if fmt == "json":
                stream.write("\n]\n" if written else "]\n")
    except BaseException as exc:
        chunks.close()  # stops the worker processes of --jobs, if any
        if _worker_died(exc):
            if target:
                target.abort(keep=False)
            raise _UsageError(
                f"a worker process died ({exc.__class__.__name__}): most likely the system ran out of memory and "
                "killed it. Nothing was written"
                + (f"; {args.output} is as it was" if args.output else "")
                + ". Rerun with fewer --jobs or a smaller --chunk-size."
            ) from None
        if not (isinstance(exc, KeyboardInterrupt) or interrupted):
            if target:
                target.abort(keep=False)
            raise
        # Ctrl-C or SIGTERM: every record written so far is whole (a write is never cut).
        if bar is not None:
            bar.close()
        if fmt == "json":  # close the array: what was written is valid JSON, in FILE.partial too
            stream.write(("" if header_written else "[") + ("\n]\n" if written else "]\n"))
        stream.flush()
        kept = target.abort(keep=True) if target else None
        where = f"; completed results kept in {kept}" if kept else ""
        terminated = isinstance(exc, _Terminated) or interrupted.terminated
        how = "terminated (SIGTERM)" if terminated else "interrupted"
        print(f"arabictopics: {how} after {written} record(s){where}.", file=sys.stderr)
        return 143 if terminated else 130
    if bar is not None:
        bar.close()
    if stopped_at is not None:
        if target:
            target.abort(keep=False)
        print(
            f"arabictopics: stopped at the first bad record (--strict): {stopped_at['id']}: {stopped_at['error']}",
            file=sys.stderr,
        )
        return 1
    if target:
        target.commit()
    if failed:
        print(f'arabictopics: {failed} of {written} record(s) failed; see their "error" field.', file=sys.stderr)
        return 1
    return 0


# --------------------------------------------------------------------------
# themes, info, stats
# --------------------------------------------------------------------------


def _cmd_themes(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from .taxonomy import load_taxonomy

    themes = load_taxonomy()
    if args.format == "json":
        print(json.dumps([asdict(t) for t in themes], ensure_ascii=False, indent=1))
        return 0
    for theme in themes:
        print(f"{theme.label:<17} {theme.name_en} / {theme.name_ar}")
        print(f"{'':<17} covers: {theme.covers}")
        print(f"{'':<17} not: {theme.excludes}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from .persistence import default_model_path, read_model_metadata

    meta = read_model_metadata(args.model)
    meta = {"path": str(args.model or default_model_path()), **meta}
    fmt = args.format or ("table" if sys.stdout.isatty() else "json")
    print(json.dumps(meta, ensure_ascii=False, indent=1) if fmt == "json" else _model_summary(meta, args.model is None))
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    from .persistence import convert_model

    meta = convert_model(args.old, args.new, trust_pickle=args.trust_pickle)
    size = os.path.getsize(args.new)
    print(
        f"wrote {args.new}: model format {meta['format']} (data only), {len(meta['labels'])} themes, "
        f"{size / 1e6:.1f} MB; it scores probe articles exactly as {args.old} did.",
        file=sys.stderr,
    )
    return 0


def _model_summary(meta: dict[str, Any], shipped: bool) -> str:
    """What a person wants to know of a model file, in a screenful."""

    def number(value: Any) -> str:
        return f"{value:,}" if isinstance(value, int) else "?"

    data = meta.get("training_data") or {}
    cv = meta.get("cv_metrics") or {}
    per_theme = cv.get("labels") or {}
    lines = [
        f"model      {meta['path']}" + (" (the shipped model)" if shipped else ""),
        f"version    arabictopics {meta.get('library_version', '?')}, model format {meta.get('format', '?')} "
        f"(data only), trained with scikit-learn {meta.get('sklearn_version', '?')}, "
        f"created {str(meta.get('created', '?'))[:10]}",
        f"trained on {number(data.get('articles'))} articles"
        + (f" ({number(data['articles_with_mentions'])} with mentions)" if data.get("articles_with_mentions") else "")
        + f", {number(meta.get('n_features'))} features, seed {meta.get('random_state', '?')}; reads up to "
        f"{number(meta.get('max_chars'))} characters per article",
        "",
        f"{'theme':<18}{'threshold':>10}" + (f"{'CV F1':>9}{'P':>7}{'R':>7}{'support':>9}" if per_theme else ""),
    ]
    for label, threshold in zip(meta["labels"], meta["thresholds"]):
        row = f"{label:<18}{threshold:>10.2f}"
        if label in per_theme:
            m = per_theme[label]
            row += f"{m['f1']:>9.3f}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['support']:>9,}"
        lines.append(row)
    lines.append("")
    if cv:
        found = cv.get("found") or {}
        lines.append(
            f"fixture CV ({meta.get('cv_folds', '?')}-fold, out-of-fold, on the training articles): about micro F1 "
            f"{cv['micro_f1']:.3f}, macro F1 {cv['macro_f1']:.3f}, articles with no theme given one "
            f"{cv['off_topic_false_positive_rate']:.1%}"
            + (
                f"; names: P {found['micro_precision']:.3f} R {found['micro_recall']:.3f}"
                if "micro_precision" in found
                else ""
            )
        )
        lines.append(
            "  (the training articles are cleaner than a real feed: expect lower figures on real news; measure them "
            "on your own labeled articles with `arabictopics evaluate`)"
        )
    else:
        lines.append("fixture CV: not recorded (trained with --cv 0)")
    if shipped:
        lines.append(
            "real news: README, 'How good is it' (benchmarks/devset.py: 493 real articles the model never saw)"
        )
    for warning in meta.get("warnings") or []:
        lines.append(f"warning: {warning}")
    lines.append("full metadata: arabictopics info --format json")
    return "\n".join(lines)


def _load_data(args: argparse.Namespace, **extra: Any):
    from .dataset import load_labeled

    return load_labeled(
        args.data,
        text_column=args.text_column,
        labels_column=args.labels_column,
        id_column=args.id_column,
        mentions_column=args.mentions_column,
        **extra,
    )


def _cmd_stats(args: argparse.Namespace) -> int:
    from .dataset import check_training_data, describe, validate_labeled

    data = _load_data(args)
    stats = describe(data)
    errors, doubts = check_training_data(data, cv=args.cv)
    problems = errors + validate_labeled(data)
    stats["problems"] = problems
    stats["warnings"] = doubts
    print(json.dumps(stats, ensure_ascii=False, indent=1))
    return 1 if problems else 0


# --------------------------------------------------------------------------
# train, evaluate
# --------------------------------------------------------------------------


def _cmd_train(args: argparse.Namespace) -> int:
    from .evaluation import EvaluationReport
    from .io import output_target
    from .persistence import save_model
    from .training import train

    report_path = f"{args.output}.report.json"
    for path in (args.output, report_path):  # before any work: exit 2 must mean nothing was written
        _, status = output_target(path)
        if status is not None and not stat.S_ISREG(status.st_mode):
            kind = "a directory" if stat.S_ISDIR(status.st_mode) else "not a regular file (a device or a pipe)"
            raise _UsageError(f"{path} is {kind}; give -o a file path (the report goes to MODEL.report.json).")
    keep = [label.strip() for label in args.labels.split(",") if label.strip()] if args.labels else None
    data = _load_data(args)
    if not args.quiet:
        print(
            f"arabictopics: training on {len(data)} articles, {args.cv}-fold CV, seed {args.seed}...", file=sys.stderr
        )
    progress = not args.quiet and sys.stderr.isatty()
    with warnings.catch_warnings(record=True) as doubts:
        warnings.simplefilter("always", UserWarning)
        model, meta = train(
            data,
            labels=keep,
            cv=args.cv,
            random_state=args.seed,
            progress=progress,
            allow_no_negatives=args.allow_no_negatives,
        )
    for doubt in doubts:
        print(f"arabictopics: warning: {doubt.message}", file=sys.stderr)
    report = meta.get("cv_metrics")
    companions = {report_path: json.dumps(report, ensure_ascii=False, indent=1)} if report else None
    try:
        save_model(model, args.output, metadata=meta, companions=companions)
    except OSError as exc:
        where = exc.filename or args.output
        raise _UsageError(f"cannot write {where}: {exc.strerror or exc}; nothing was written.") from None
    if report:
        print("cross-validated (out-of-fold) scores:\n" + EvaluationReport.from_dict(report).format())
    if not args.quiet:
        print(f"model written to {args.output}" + (f"; report to {report_path}" if report else ""), file=sys.stderr)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate, unknown_labels
    from .persistence import load_model

    model = load_model(args.model)
    data = _load_data(args)
    result = evaluate(model, data, top=args.top, ignore_unknown_labels=args.ignore_unknown_labels)
    if args.ignore_unknown_labels and (unknown := unknown_labels(model, data)):
        print(
            f"arabictopics: ignored {sum(unknown.values())} unknown label(s) on the articles: {', '.join(unknown)}",
            file=sys.stderr,
        )
    if args.format == "json":
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(result.format())
    if args.plot:
        from .plotting import plot_report

        plot_report(result, model, data, args.plot)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from .io import iter_documents
    from .persistence import load_model

    model = load_model(args.model)
    out = []
    for doc in iter_documents([args.input]):
        if doc.error:
            raise _UsageError(f"{doc.id}: {doc.error}")
        out.append((doc.id, model.explain(doc.text, theme=args.theme, top_terms=args.top_terms)))
    if args.format == "json":
        print(json.dumps([{"id": i, **e.to_dict()} for i, e in out], ensure_ascii=False, indent=1))
    else:
        for doc_id, explanation in out:
            print(f"== {doc_id}")
            print(explanation.format())
    return 0


# --------------------------------------------------------------------------
# suggest
# --------------------------------------------------------------------------


def _cmd_suggest(args: argparse.Namespace) -> int:
    from .active import committee_size, suggest
    from .io import AtomicOutput
    from .persistence import load_model
    from .scoring import DEFAULT_CHUNK_SIZE

    if not 0.0 < args.max_similarity <= 1.0:
        raise _UsageError("--max-similarity must be in (0, 1].")
    model = load_model(args.model)
    cv = committee_size(model)
    if not args.quiet:
        how = (
            f"uncertainty near each threshold + disagreement of {cv} fold models"
            if cv
            else "uncertainty near each threshold only (the model keeps no fold models; retrain with --cv 2 or more "
            "to add their disagreement)"
        )
        print(f"arabictopics: ranking by {how}.", file=sys.stderr)
    docs = _documents(args, args.inputs)
    target = AtomicOutput(args.output) if args.output else None
    bar = _progress(args.quiet, "suggest")
    failed: list[Any] = []
    read = 0

    def readable() -> Iterator[Any]:
        nonlocal read
        for doc in docs:
            read += 1
            if bar is not None:
                bar.update(1)
            if doc.error is None:
                yield doc
            else:
                failed.append(doc)

    # suggest() reads ids right after each chunk of texts, so tee buffers one chunk at most
    for_texts, for_ids = itertools.tee(readable())
    try:
        picks = suggest(
            model,
            (doc.text for doc in for_texts),
            (doc.id for doc in for_ids),
            n=args.n,
            chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE,
            max_similarity=args.max_similarity,
        )
        stream = target.stream if target else sys.stdout
        for pick in picks:
            stream.write(json.dumps(pick.to_dict(), ensure_ascii=False) + "\n")
    except BaseException:
        if bar is not None:
            bar.close()
        if target:
            target.abort(keep=False)
        raise
    if bar is not None:
        bar.close()
    if target:
        target.commit()
    if not args.quiet:
        where = f" to {args.output}" if args.output else ""
        print(f"arabictopics: wrote {len(picks)} suggestion(s) out of {read} article(s){where}.", file=sys.stderr)
    if failed:
        first = failed[0]
        print(
            f"arabictopics: {len(failed)} record(s) could not be read and were skipped "
            f"(first: {first.id}: {first.error}).",
            file=sys.stderr,
        )
        return 1
    return 0


# --------------------------------------------------------------------------
# serve
# --------------------------------------------------------------------------


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from . import serve
    except ImportError as exc:
        raise _UsageError(
            f"arabictopics serve needs the [serve] extra ({exc.name or exc} is not installed): "
            'pip install "arabictopics[serve]"'
        ) from None
    from .persistence import load_model

    model = load_model(args.model)  # fail early (exit 2) on a bad model file, before binding the port
    if not serve._loopback(args.host):
        print(
            f"arabictopics: warning: listening on {args.host}: the service has no authentication of its own; "
            "put it behind a reverse proxy that has (README, 'HTTP service').",
            file=sys.stderr,
        )
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_config": serve._log_config(),
        "access_log": False,  # serve's own access log adds the articles and the time
        "server_header": False,
    }
    # One process reads HTTP; with --workers N, N processes forked from it (with the model loaded) score.
    uvicorn.run(serve.create_app(model, max_body=args.max_body, workers=args.workers), **options)
    return 0


_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2}
_SIZE_UNITS.update({"g": 1000**3, "gb": 1000**3, "gib": 1024**3})


def _byte_size(value: str) -> int:
    """``32MiB``, ``500kB``, ``1048576``: a number of bytes."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", value)
    unit = _SIZE_UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None or float(match.group(1)) * unit < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a size: give bytes, or a number with kB, MB, KiB or MiB")
    return int(float(match.group(1)) * unit)


def _port(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError("a TCP port is 0 to 65535")
    return number


# --------------------------------------------------------------------------
# parser
# --------------------------------------------------------------------------


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _usable_jobs(jobs: int) -> int:
    """``--jobs`` capped at the cores this process may use (``-1``: all of them); a cap is said on stderr."""
    cores = _usable_cores()
    if jobs == -1:
        return cores
    if jobs > cores:
        print(
            f"arabictopics: --jobs {jobs} capped at {cores}, the cores this process may use "
            "(more worker processes than cores only cost memory and start-up).",
            file=sys.stderr,
        )
        return cores
    return jobs


def _jobs_for_chunks(docs: Iterator[Any], n_jobs: int, chunk_size: int | None) -> tuple[Iterator[Any], int, int]:
    """``n_jobs`` and the chunk size for a file input, found by reading
    ahead at most ``4 * n_jobs * chunk_size + 1`` records.

    An input that fits in that window is cut, unless ``--chunk-size`` was
    given, into about four chunks per worker (at least 16 articles each), so
    that the workers finish together; ``n_jobs`` is then capped at the
    number of chunks (a cap is said on stderr)."""
    from .scoring import DEFAULT_CHUNK_SIZE

    size = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
    window = 4 * n_jobs * size
    ahead = list(itertools.islice(docs, window + 1))
    if len(ahead) <= window and chunk_size is None:
        size = min(size, max(_MIN_CHUNK, -(-len(ahead) // (4 * n_jobs))))
    chunks = -(-len(ahead) // size)
    if 0 < chunks < n_jobs:
        print(
            f"arabictopics: --jobs capped at {chunks}: the input makes {chunks} chunk(s) of {size} articles"
            + (", scored in this process." if chunks == 1 else "."),
            file=sys.stderr,
        )
        n_jobs = chunks
    return itertools.chain(ahead, docs), n_jobs, size


#: The smallest chunk a small input is cut into for --jobs.
_MIN_CHUNK = 16


def _jobs(value: str) -> int:
    number = int(value)
    if number == 0 or number < -1:
        raise argparse.ArgumentTypeError("use a positive number of processes, or -1 for all cores")
    return number


def _add_data_columns(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text-column", default="text", help="JSONL key / CSV column of the text (default: text)")
    parser.add_argument("--labels-column", default="labels", help="key / column of the labels (default: labels)")
    parser.add_argument("--id-column", default="id", help="key / column of the id (default: id)")
    parser.add_argument(
        "--mentions-column",
        default="mentions",
        help="key / column of the themes each article names without being about them (default: mentions; optional)",
    )


def _documents(args: argparse.Namespace, sources: list[str], defer: bool = False, **extra: Any) -> Any:
    """The documents of ``sources``, read as the options of :func:`_add_input_options` say."""
    from .io import iter_documents

    return iter_documents(
        sources,
        input_format=args.input_format,
        text_column=args.text_column,
        id_column=args.id_column,
        encoding=args.encoding,
        errors=args.errors,
        defer=defer,
        quoting=args.quoting,
        **extra,
    )


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    """How ``classify`` and ``suggest`` read articles (see :func:`arabictopics.io.iter_documents`)."""
    parser.add_argument(
        "--input-format",
        default="auto",
        choices=("auto", "text", "jsonl", "csv", "tsv"),
        help="how to read inputs (default: by file suffix; stdin is one text)",
    )
    parser.add_argument("--text-column", default="text", help="JSONL key / CSV column of the text (default: text)")
    parser.add_argument(
        "--id-column", help="JSONL key / CSV column of the id (default: id, where there is one; else FILE:LINE)"
    )
    parser.add_argument(
        "--chunk-size",
        type=_positive_int,
        help="articles per batch (default: 256; with --jobs, a smaller input is cut into about four chunks per worker)",
    )
    parser.add_argument(
        "--quoting",
        default="csv",
        choices=("csv", "none"),
        help='CSV/TSV quoting: csv reads "..." fields (default); none reads quotes as text (unquoted TSV)',
    )
    parser.add_argument("--encoding", default="utf-8", help="input encoding (default: utf-8)")
    parser.add_argument(
        "--errors",
        default="strict",
        choices=("strict", "replace", "ignore"),
        help="undecodable bytes: strict = report the record as failed (default)",
    )


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="arabictopics",
        description="Label Arabic news articles with themes.",
        epilog="Exit codes: 0 ok; 1 some records failed; 2 usage or fatal error; 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"arabictopics {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("classify", help="label articles (files, directories, JSONL, CSV, or stdin)")
    p.add_argument("inputs", nargs="*", metavar="PATH", help="files or directories; '-' or nothing reads stdin")
    p.add_argument("--model", help="a saved model (.atm); default: the shipped model")
    p.add_argument("--format", choices=_OUTPUT_FORMATS, help="output format (default: table on a terminal, else jsonl)")
    _add_input_options(p)
    p.add_argument(
        "-o",
        "--output",
        help="write results to this file (atomically) instead of stdout; when interrupted, the completed records "
        "are kept in FILE.partial, usable in every format (a json array is closed)",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=1,
        help="worker processes, at most the usable cores and the chunks a file input makes; -1 = all cores "
        "(default: 1)",
    )
    p.add_argument(
        "--max-chars",
        type=_positive_int,
        default=None,
        help="read at most this many characters per article (default and maximum: the model's, 100000)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        metavar="P",
        help="one about-threshold for every theme instead of the tuned ones (0 to 1; fastText's threshold)",
    )
    p.add_argument(
        "--top", type=_positive_int, metavar="K", help="keep at most K labels, the highest scores (fastText's k)"
    )
    p.add_argument(
        "--keep",
        metavar="FIELDS",
        help="comma-separated JSONL keys / CSV columns copied into each output record after its id "
        "(e.g. title,url,date)",
    )
    p.add_argument("--strict", action="store_true", help="stop at the first record that fails")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_classify)

    p = sub.add_parser("themes", help="list the default themes")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_cmd_themes)

    p = sub.add_parser("info", help="summarize a model file: themes, thresholds, training data, CV figures")
    p.add_argument("model", nargs="?", help="a .atm file (default: the shipped model)")
    p.add_argument(
        "--format",
        choices=("table", "json"),
        help="table: a summary for a person; json: the whole metadata (default: table on a terminal, else json)",
    )
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser(
        "convert",
        help="rewrite a format-1 model file (a pickle) as a data-only format-2 file",
        description="Rewrite a model file written by arabictopics < 0.3 (format 1: a pickle, which runs code when "
        "it is loaded) as a format-2 file, which holds data only. The old file is checked (scikit-learn minor "
        "version, checksum), unpickled, saved as data with its training metadata, and the new file must score "
        "probe articles exactly as the old one did. Unpickling runs whatever code the old file holds: only for "
        "files you made or got from someone you trust, hence --trust-pickle.",
    )
    p.add_argument("old", help="the format-1 .atm file")
    p.add_argument("new", help="where to write the format-2 .atm file")
    p.add_argument(
        "--trust-pickle", action="store_true", help="required: confirms the old file comes from someone you trust"
    )
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser(
        "train",
        help="train a model from labeled articles",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "data:\n"
            "  JSONL   one object per line: text, labels (a list), optional mentions (a list) and id\n"
            "  CSV/TSV a header row; labels (and mentions) separated by | or ;\n"
            "  folder  one subfolder per theme holding .txt files, and none/ for articles with no theme:\n"
            "            data/drugs/*.txt  data/drones/*.txt  data/none/*.txt\n"
            "\n"
            "The model learns to say 'no theme' only from articles that carry none (empty labels, or none/):\n"
            "without them training stops, unless --allow-no-negatives. A theme on every article, too few\n"
            "articles of a theme for the folds, or a --cv of 1 or below 0 stop it too (exit 2, nothing\n"
            "written). The model and MODEL.report.json (the cross-validated report) are written together."
        ),
    )
    p.add_argument("data", nargs="+", help="JSONL, CSV/TSV files or folders with one subfolder per label")
    p.add_argument("-o", "--output", required=True, help="model file to write (.atm)")
    p.add_argument("--labels", help="comma-separated themes to keep (default: all labels in the data)")
    p.add_argument("--cv", type=int, default=5, help="cross-validation folds (default: 5)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument(
        "--allow-no-negatives",
        action="store_true",
        help="train even though every article carries a theme (the model will then give every article one)",
    )
    p.add_argument("-q", "--quiet", action="store_true")
    _add_data_columns(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="score a model on labeled held-out articles")
    p.add_argument("model", help="a .atm file, or 'default' for the shipped model")
    p.add_argument("data", nargs="+", help="labeled JSONL, CSV/TSV files or folders")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--top", type=int, default=10, help="worst examples to list (default: 10)")
    p.add_argument(
        "--plot",
        metavar="FILE.png",
        help="draw per-theme F1 and a precision-recall panel per theme with its threshold marked (needs matplotlib)",
    )
    p.add_argument(
        "--ignore-unknown-labels",
        action="store_true",
        help="score even though some labels of the data are not the model's (they then count as no label)",
    )
    _add_data_columns(p)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("explain", help="show the words and sentences behind each theme")
    p.add_argument(
        "input",
        help="an article: a text or HTML file, '-' for stdin, or a JSONL/CSV/TSV file or a directory (every article "
        "in it is explained; read as classify reads them)",
    )
    p.add_argument("--model", help="a saved model (.atm); default: the shipped model")
    p.add_argument("--theme", help="explain this theme even if it was not predicted")
    p.add_argument("--top-terms", type=int, default=8)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser("suggest", help="rank unlabeled articles by how much labeling them would help")
    p.add_argument("model", help="a .atm file, or 'default' for the shipped model")
    p.add_argument("inputs", nargs="+", metavar="UNLABELED", help="files or directories of unlabeled articles")
    p.add_argument("-n", type=_positive_int, default=50, help="how many articles to suggest (default: 50)")
    p.add_argument("-o", "--output", help="write the JSONL to this file (atomically) instead of stdout")
    _add_input_options(p)
    p.add_argument(
        "--max-similarity",
        type=float,
        default=0.9,
        help="skip an article whose TF-IDF cosine to a better suggestion is above this (default: 0.9)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or messages")
    p.set_defaults(func=_cmd_suggest)

    p = sub.add_parser(
        "serve",
        help='an HTTP service and a page that shows why (needs pip install "arabictopics[serve]")',
        description="Serve the model over HTTP with uvicorn: POST /v1/classify (JSON, or a JSONL stream with "
        "Content-Type: application/x-ndjson), GET /v1/themes, /v1/model, /healthz, /readyz, /metrics, and a page "
        "at / to paste an article into. It has no authentication: it binds to 127.0.0.1 unless --host says "
        "otherwise; put it behind a reverse proxy to share it.",
    )
    p.add_argument("--model", help="a saved model (.atm); default: the shipped model")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=_port, default=8000, help="TCP port (default: 8000)")
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="processes that score, forked with the model loaded (default: 1, scoring in the server's own process; "
        "about one per core)",
    )
    p.add_argument(
        "--max-body",
        type=_byte_size,
        default=32 * 1024 * 1024,
        metavar="SIZE",
        help="largest request body, e.g. 32MiB (default); for a JSONL stream, the largest line; larger gets 413",
    )
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("stats", help="counts and problems of a labeled data set")
    p.add_argument("data", nargs="+")
    p.add_argument("--cv", type=int, default=5, help="the folds you will train with, for the checks (default: 5)")
    _add_data_columns(p)
    p.set_defaults(func=_cmd_stats)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    from .exceptions import ArabicTopicsError

    # A run stopped early (Ctrl-C, SIGTERM, `| head`) closes joblib's result stream on purpose.
    warnings.filterwarnings("ignore", message=r".*(have been cancelled|executed\s+but not used)", category=UserWarning)
    parser = _build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the command's own parser, with its usage, and the closest option
        _command_parser(parser, args.command).error(_unrecognized(unknown, _command_parser(parser, args.command)))
    if getattr(args, "model", None) == "default":
        args.model = None
    try:
        return args.func(args)
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except (ArabicTopicsError, _UsageError, ValueError, OSError) as exc:
        message = str(exc) if not isinstance(exc, OSError) or not exc.filename else f"{exc.filename}: {exc.strerror}"
        print(f"arabictopics: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("arabictopics: interrupted.", file=sys.stderr)
        return 130


def _command_parser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    return parser  # pragma: no cover - every command is a subparser


def _unrecognized(unknown: list[str], parser: argparse.ArgumentParser) -> str:
    """``unrecognized arguments: --formt (did you mean --format?)``."""
    import difflib

    options = [option for action in parser._actions for option in action.option_strings]
    hints = {}
    for arg in unknown:
        name = arg.split("=", 1)[0]
        close = difflib.get_close_matches(name, options, n=1, cutoff=0.75) if name.startswith("--") else []
        if close:
            hints[name] = close[0]
    said = [
        f"did you mean {hint}?" if len(hints) == 1 else f"{name}: did you mean {hint}?" for name, hint in hints.items()
    ]
    return f"unrecognized arguments: {' '.join(unknown)}" + (f" ({'; '.join(said)})" if said else "")


def _silence_stdout() -> None:
    # The reader went away (``| head``): point stdout at devnull so the
    # interpreter's final flush does not raise again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:  # pragma: no cover
        pass


def run() -> None:
    """Console-script entry point."""
    status = main()
    # The process ends here: the collection at exit would walk every object (the model, the
    # word tables) only to find nothing to free.  Frozen objects are skipped.
    import gc

    gc.freeze()
    sys.exit(status)
