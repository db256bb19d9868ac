"""Reliability and security: every case of docs/robustness.md that is not tested
next to its module (test_io, test_cli, test_dataset, test_persistence, test_model)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import zipfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest

from arabictopics import (
    DataError,
    InputError,
    ModelError,
    clean,
    load_labeled,
    load_model,
    passages,
    read_model_metadata,
    save_model,
    train,
)
from arabictopics import io as atio
from arabictopics import text as text_module
from arabictopics.cli import main
from arabictopics.io import AtomicOutput, iter_documents

from .conftest import model_members, write_model_members

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
DRUGS = "ضبطت الجمارك شحنة من حبوب الكبتاغون المخدرة في المنفذ الحدودي وأحالت المهربين إلى النيابة"
FOOTBALL = "فاز الهلال على النصر بهدفين في مباراة الدوري وتصدر جدول الترتيب"
# The CLI in a subprocess that reports its own peak RSS (KiB) on stderr.
RSS_CLI = (
    "import resource, sys; from arabictopics.cli import main; rc = main(sys.argv[1:]); "
    "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)"
)


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def _run(args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``args`` in its own process group, killed whole (worker processes, the
    other side of a pipe) if it hangs, so that a hang fails instead of blocking."""
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=ROOT, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{args} did not finish in {timeout} s")
    return subprocess.CompletedProcess(args, proc.returncode, out.decode("utf-8"), err.decode("utf-8"))


def _run_rss(*args: str) -> tuple[subprocess.CompletedProcess, int]:
    proc = _run([sys.executable, "-c", RSS_CLI, *args])
    assert "MAXRSS" in proc.stderr, proc.stderr
    rss = int(proc.stderr.rsplit("MAXRSS", 1)[1].split()[0])
    return proc, rss


@pytest.fixture(scope="module")
def baseline_rss(tmp_path_factory) -> int:
    """Peak RSS (KiB) of the CLI classifying one short article."""
    src = tmp_path_factory.mktemp("baseline") / "small.txt"
    src.write_text(DRUGS, encoding="utf-8")
    proc, rss = _run_rss("classify", "--format", "jsonl", str(src))
    assert proc.returncode == 0, proc.stderr
    return rss


# ---- API: what is not text ---------------------------------------------------


@pytest.mark.parametrize(
    "value, message",
    [(None, "document 0 is NoneType"), (b"\xd9\x86\xd8\xb5", "decode bytes"), (5, "is int"), (2.5, "is float")],
    ids=["None", "bytes", "int", "float"],
)
def test_classify_refuses_what_is_not_text(default_model, value, message):
    with pytest.raises(InputError, match=message):
        default_model.classify(value)
    with pytest.raises(InputError, match=message.replace("document 0", "document 1")):
        default_model.classify_many([DRUGS, value])


# ---- empty, whitespace-only, non-Arabic text ------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t\u00a0 ", "中文新闻报道 警方", "\x00\x01\x02\x07"],
    ids=["empty", "whitespace", "chinese", "control-chars"],
)
def test_text_with_no_known_word_gets_no_theme(default_model, text):
    result = default_model.classify(text)
    assert result.labels == ()
    assert result.scores == default_model.classify("").scores  # no feature: the model's prior only


@pytest.mark.parametrize(
    "text",
    ["Police seized a drug shipment; a drone attack hit the border.", "0123456789 42 2024", "١٢٣ ٤٥٦"],
    ids=["english", "digits", "arabic-indic digits"],
)
def test_english_and_digits_get_no_theme(default_model, text):
    result = default_model.classify(text)
    assert result.labels == () and not result.truncated


def test_cli_scores_empty_text_instead_of_failing(tmp_path, capsys):
    rows = [{"id": "e", "text": ""}, {"id": "w", "text": " \n "}, {"id": "d", "text": DRUGS}]
    src = _jsonl(tmp_path / "in.jsonl", rows)
    assert main(["classify", "-q", "--format", "jsonl", str(src)]) == 0
    records = _records(capsys.readouterr().out)
    assert [r["id"] for r in records] == ["e", "w", "d"]
    assert records[0]["labels"] == records[1]["labels"] == [] and "drugs" in records[2]["labels"]


# ---- encodings ------------------------------------------------------------------------


def test_encoding_and_errors_policy(tmp_path):
    path = tmp_path / "cp1256.txt"
    path.write_bytes(DRUGS.encode("cp1256"))
    [strict] = iter_documents([str(path)])
    assert strict.text is None and "not valid utf-8" in strict.error and "--encoding" in strict.error
    [decoded] = iter_documents([str(path)], encoding="cp1256")
    assert decoded.text == DRUGS
    [replaced] = iter_documents([str(path)], errors="replace")
    assert "\ufffd" in replaced.text
    [ignored] = iter_documents([str(path)], errors="ignore")
    assert "\ufffd" not in ignored.text and len(ignored.text) < len(replaced.text)


def test_unknown_or_unusable_encoding_is_a_usage_error(tmp_path, capsys):
    src = _jsonl(tmp_path / "in.jsonl", [{"text": DRUGS}])
    assert main(["classify", "--encoding", "no-such-codec", str(src)]) == 2
    assert "unknown text encoding 'no-such-codec'" in capsys.readouterr().err
    with pytest.raises(InputError, match="not ASCII-compatible"):
        list(iter_documents([str(src)], encoding="utf-16"))
    with pytest.raises(InputError, match="unknown error policy"):
        list(iter_documents([str(src)], errors="nope"))


def test_cli_encoding_option(tmp_path, capsys):
    path = tmp_path / "cp1256.txt"
    path.write_bytes(DRUGS.encode("cp1256"))
    assert main(["classify", "-q", "--format", "jsonl", str(path)]) == 1
    assert "--errors replace" in _records(capsys.readouterr().out)[0]["error"]
    assert main(["classify", "-q", "--format", "jsonl", "--encoding", "cp1256", str(path)]) == 0
    assert "drugs" in _records(capsys.readouterr().out)[0]["labels"]


def test_undecodable_csv_line_fails_only_its_record(tmp_path):
    rows = [b"id,text"] + [f"{i},{FOOTBALL} {i}".encode() for i in range(3000)]
    rows[2001] = b"2000,\xff\xfe broken"  # beyond the first read buffer
    path = tmp_path / "in.csv"
    path.write_bytes(b"\n".join(rows) + b"\n")
    docs = list(iter_documents([str(path)]))
    assert [d.id for d in docs] == [str(i) if i != 2000 else f"{path}:2002" for i in range(3000)]
    assert "line 2002: not valid utf-8" in docs[2000].error
    assert docs[2999].text == f"{FOOTBALL} 2999"


def test_unpaired_surrogates_never_break_the_output(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "\\ud800", "text": "ok"}\n{"id": "b", "text": "\\udc00 x"}\n{"id": "c", "text": "x"}\n')
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / os.fsdecode(b"\xff.txt")).write_text(DRUGS, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["classify", "-q", str(src), str(folder), "-o", str(out)]) == 1
    records = _records(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == ["\\ud800", "b", "c", f"{folder}/\\xff.txt"]
    assert "unpaired surrogate" in records[1]["error"] and "--errors replace" in records[1]["error"]
    assert "drugs" in records[3]["labels"]
    [replaced] = [d for d in iter_documents([str(src)], errors="replace") if d.id == "b"]
    assert replaced.text == "\ufffd x"


# ---- NUL bytes and control characters -------------------------------------------------


def test_nul_and_control_characters_separate_words(default_model):
    spaced = default_model.classify("ضبط شحنة كبتاغون مخدرة في المنفذ الحدودي")
    controlled = default_model.classify("ضبط\x00شحنة\x07كبتاغون\x1bمخدرة\x0bفي\x7fالمنفذ\x85الحدودي")
    assert controlled.scores == spaced.scores and "drugs" in controlled.labels


def test_zero_width_space_separates_words():
    # U+200B used to be deleted with the joiners (ZWNJ, ZWJ), gluing the two words into one unknown token
    assert clean("في\u200bالمنفذ") == "في المنفذ"
    assert clean("می\u200cخواهم") == "ميخواهم"  # a joiner still joins


def test_nul_bytes_in_files(tmp_path):
    early = tmp_path / "early.txt"
    early.write_bytes(b"\x00" + DRUGS.encode())
    late = tmp_path / "late.txt"
    late.write_bytes(("x" * 9000).encode() + b"\x00" + DRUGS.encode())
    jsonl = _jsonl(tmp_path / "in.jsonl", [{"text": "a\x00b"}])
    [binary] = iter_documents([str(early)])
    assert "binary file (NUL bytes)" in binary.error
    [text] = iter_documents([str(late)])
    assert text.text.endswith(DRUGS)  # a NUL after the first 8 KiB: read as text
    [record] = iter_documents([str(jsonl)])
    assert record.text == "a\x00b"


# ---- size ----------------------------------------------------------------------------------


def test_20mb_article_bounded_time_and_memory(default_model, monkeypatch):
    article = (DRUGS + ". ") * (20_000_000 // len((DRUGS + ". ").encode()))  # 20 MB of UTF-8
    seen: list[int] = []
    real_strip_html = passages.strip_html
    monkeypatch.setattr(passages, "strip_html", lambda text: seen.append(len(text)) or real_strip_html(text))
    result = default_model.classify(article)
    assert result.truncated and "drugs" in result.labels
    assert seen == [default_model.max_chars]  # only the first max_chars characters are ever read: bounded time
    tracemalloc.start()
    try:
        default_model.classify(article)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 30 * 2**20, peak  # reading everything peaks at several hundred MB


def test_cli_20mb_file_is_truncated_and_bounded(tmp_path, baseline_rss):
    src = tmp_path / "big.txt"
    src.write_text((DRUGS + ".\n") * (20_000_000 // len((DRUGS + ".\n").encode())), encoding="utf-8")
    proc, rss = _run_rss("classify", "--format", "jsonl", str(src))
    assert proc.returncode == 0, proc.stderr
    [record] = _records(proc.stdout)
    assert record["truncated"] is True and "drugs" in record["labels"]
    assert rss - baseline_rss < 100 * 1024, (rss, baseline_rss)  # at most 16 MiB read, 100,000 characters scored
    proc, _ = _run_rss("classify", "--format", "jsonl", "--max-chars", "1000", str(src))
    assert _records(proc.stdout)[0]["truncated"] is True


def test_cli_100mb_jsonl_line(tmp_path, baseline_rss):
    src = tmp_path / "huge.jsonl"
    with open(src, "wb") as fh:
        fh.write(b'{"id": "huge", "text": "')
        block = ("ضبط " * 4096).encode()
        for _ in range(100 * 2**20 // len(block) + 1):
            fh.write(block)
        fh.write(b'"}\n' + json.dumps({"id": "next", "text": DRUGS}).encode() + b"\n")
    try:
        proc, rss = _run_rss("classify", "--format", "jsonl", str(src))
    finally:
        src.unlink()
    assert proc.returncode == 1, proc.stderr
    huge, following = _records(proc.stdout)
    assert huge["id"] == f"{src}:1" and f"line 1: longer than {atio.MAX_LINE_BYTES} bytes" in huge["error"]
    assert following["id"] == "next" and "drugs" in following["labels"]
    # the first 64 MiB are read (briefly twice, while readline joins its pieces), the rest skipped in
    # 1 MiB pieces; reading the line whole would take 200 MB before decoding and parsing it
    assert rss - baseline_rss < 180 * 1024, (rss, baseline_rss)


# ---- HTML -------------------------------------------------------------------------------


def test_scripts_styles_and_comments_do_not_count(default_model):
    body = f"<p>{FOOTBALL}</p>"
    page = (
        "<html><head><style>.drugs{color:red}</style>"
        f"<script>var related = '{DRUGS}';</script></head><body>{body}"
        f"<!-- {DRUGS} --><noscript>{DRUGS}</noscript></body></html>"
    )
    assert clean(page).split() == clean(body).split()
    assert default_model.classify(page).scores == default_model.classify(body).scores
    assert "drugs" not in default_model.classify(page).labels


@pytest.mark.parametrize(
    "piece",
    ["<!--", "<script>", "<style x", "<a", "<p ", "<a <!-- <script x <style "],
    ids=["comments", "scripts", "styles", "tags", "block tags", "mixed"],
)
def test_unclosed_html_is_cleaned_in_linear_time(piece):
    # The regexes used to rescan to the end of the text for every unclosed '<!--', '<script' or '<tag'
    # (100,000 characters of '<!--' took ~16 s).  Tests assert no wall-clock times: this one counts the
    # regex searches the block remover makes, which must not grow with the number of unclosed openers.
    calls = []
    real = text_module._HTML_DROP_OPEN_RE

    class Counting:
        def search(self, *args):
            calls.append(args[1] if len(args) > 1 else 0)
            return real.search(*args)

    text_module._HTML_DROP_OPEN_RE = Counting()
    try:
        out = clean(piece * (100_000 // len(piece)))  # as much as one article may hold
    finally:
        text_module._HTML_DROP_OPEN_RE = real
    assert len(calls) <= 2  # one opener found (it runs to the end of the text), one search that finds none
    assert "<!--" not in out and "<script" not in out.lower()


# ---- directories: symlink loops, unreadable files, special files -------------------------


def test_symlink_loops_to_parent_and_self(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text(DRUGS, encoding="utf-8")
    os.symlink(tmp_path, tmp_path / "sub" / "up")
    os.symlink(tmp_path / "sub" / "self.txt", tmp_path / "sub" / "self.txt")
    docs = list(iter_documents([str(tmp_path)]))
    assert [Path(d.id).name for d in docs] == ["a.txt", "self.txt"]
    assert docs[0].text == DRUGS and "symbolic links" in docs[1].error


def test_named_pipe_in_a_directory_is_skipped(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    docs: list = []
    reader = threading.Thread(target=lambda: docs.extend(iter_documents([str(tmp_path)])), daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # blocked opening the pipe: unblock it, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=10)
        pytest.fail("reading a directory blocked on a named pipe")
    [doc] = docs
    assert "not a regular file" in doc.error


@pytest.fixture()
def world_dir():
    """A directory any user can enter (tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="arabictopics-perm-"))
    path.chmod(0o755)
    yield path
    for child in path.iterdir():
        child.chmod(0o755 if child.is_dir() else 0o644)
    subprocess.run(["rm", "-rf", str(path)], check=True)


def test_unreadable_file_and_directory_real_permissions(world_dir):
    secret = world_dir / "secret.txt"
    secret.write_text(DRUGS, encoding="utf-8")
    secret.chmod(0)
    locked = world_dir / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text(DRUGS, encoding="utf-8")
    locked.chmod(0)
    list(iter_documents([str(world_dir)]))  # import everything lazily imported while still privileged
    as_root = os.geteuid() == 0
    if as_root:  # root reads every file: read as "nobody" for the duration
        os.seteuid(65534)
    try:
        docs = {Path(d.id).name: d for d in iter_documents([str(world_dir)])}
        [single] = iter_documents([str(secret)])
    finally:
        if as_root:
            os.seteuid(0)
    assert "cannot list this directory: permission denied" in docs["locked"].error
    assert "permission denied" in docs["secret.txt"].error and "permission denied" in single.error


def _deny(monkeypatch, method: str, name: str) -> None:
    """Make ``Path.<method>`` fail with "Permission denied" on paths named ``name``."""
    real = getattr(Path, method)

    def guarded(self, *args, **kwargs):
        if self.name == name:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, method, guarded)


def test_unreadable_file_simulated(tmp_path, monkeypatch):
    secret = tmp_path / "secret.txt"
    secret.write_text(DRUGS, encoding="utf-8")
    feed = _jsonl(tmp_path / "feed.jsonl", [{"text": DRUGS}])
    real_open = open

    def guarded_open(file, *args, **kwargs):
        if Path(file).name in ("secret.txt", "feed.jsonl"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(atio, "open", guarded_open, raising=False)
    docs = list(iter_documents([str(secret), str(feed), str(tmp_path)]))
    # the directory holds both: a data file inside a directory is read too (by its format)
    assert [d.id for d in docs] == [str(secret), str(feed), str(feed), str(secret)]
    assert all("permission denied; check the file's permissions" in d.error for d in docs)


def test_unreadable_directory_simulated(tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "ok.txt").write_text(DRUGS, encoding="utf-8")
    _deny(monkeypatch, "iterdir", "locked")
    docs = list(iter_documents([str(tmp_path)]))
    assert [Path(d.id).name for d in docs] == ["locked", "ok.txt"]
    assert "cannot list this directory: permission denied" in docs[0].error and docs[1].text == DRUGS


# ---- malformed JSONL, --strict, one output per input --------------------------------------


def _mixed_feed(path: Path, n: int = 30) -> tuple[Path, list[str]]:
    lines, ids = [], []
    for i in range(n):
        kind = i % 5
        if kind == 1:
            lines.append(b"{not json")
            ids.append(f"{path}:{i + 1}")
        elif kind == 3:
            lines.append(json.dumps({"id": f"r{i}", "text": 5}).encode())
            ids.append(f"r{i}")
        elif kind == 4 and i % 10 == 4:
            lines.append(b'{"id": "r%d", "text": "\xff"}' % i)
            ids.append(f"{path}:{i + 1}")
        else:
            lines.append(json.dumps({"id": f"r{i}", "text": f"{DRUGS} {i}"}, ensure_ascii=False).encode())
            ids.append(f"r{i}")
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, ids


def test_one_output_per_input_in_order(tmp_path, capsys):
    src, ids = _mixed_feed(tmp_path / "feed.jsonl")
    assert main(["classify", "-q", "--format", "jsonl", "--chunk-size", "4", str(src)]) == 1
    captured = capsys.readouterr()
    records = _records(captured.out)
    assert [r["id"] for r in records] == ids
    assert [("error" in r) for r in records] == [i % 5 in (1, 3) or i % 10 == 4 for i in range(30)]
    assert records[1]["error"].startswith("line 2: not valid JSON")
    assert f"{sum('error' in r for r in records)} of 30 record(s) failed" in captured.err


def test_one_output_per_input_in_order_with_jobs(tmp_path):
    src, ids = _mixed_feed(tmp_path / "feed.jsonl", n=40)
    proc = _run([sys.executable, "-m", "arabictopics", "classify", "-q", "--jobs", "2", "--chunk-size", "3", str(src)])
    assert proc.returncode == 1, proc.stderr
    assert [r["id"] for r in _records(proc.stdout)] == ids


def test_strict_stops_at_first_bad_record_and_writes_no_file(tmp_path, capsys):
    src, _ = _mixed_feed(tmp_path / "feed.jsonl")
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n", encoding="utf-8")
    assert main(["classify", "-q", "--strict", str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"--strict): {src}:2: line 2: not valid JSON" in err
    assert out.read_text(encoding="utf-8") == "previous results\n"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.jsonl", "out.jsonl"]  # no temp file left
    assert main(["classify", "-q", "--strict", "--format", "jsonl", str(src)]) == 1
    assert [r["id"] for r in _records(capsys.readouterr().out)] == ["r0"]  # stdout: the records before it


# ---- --output is atomic --------------------------------------------------------------------


def test_output_not_written_when_the_run_fails(tmp_path, capsys):
    good = _jsonl(tmp_path / "good.jsonl", [{"text": DRUGS}] * 5)
    bad = tmp_path / "bad.csv"
    bad.write_text("body\nنص\n", encoding="utf-8")  # no "text" column: a usage error after good.jsonl
    out = tmp_path / "out.jsonl"
    assert main(["classify", "-q", "--chunk-size", "2", str(good), str(bad), "-o", str(out)]) == 2
    assert "no column 'text'" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "good.jsonl"]


def test_output_into_a_directory_fails_cleanly(tmp_path, capsys):
    good = _jsonl(tmp_path / "good.jsonl", [{"text": DRUGS}])
    target = tmp_path / "results"
    target.mkdir()
    assert main(["classify", "-q", str(good), "-o", str(target)]) == 2
    assert "arabictopics: error:" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.jsonl", "results"]  # no temp file left


def test_output_file_gets_the_usual_mode(tmp_path):
    out = AtomicOutput(tmp_path / "out.jsonl")
    out.stream.write("x\n")
    out.commit()
    plain = tmp_path / "plain.txt"
    plain.write_text("x\n")
    assert stat.S_IMODE(os.stat(out.path).st_mode) == stat.S_IMODE(os.stat(plain).st_mode)


# ---- | head -1 -------------------------------------------------------------------------------


def test_pipe_closed_early_exits_0_quietly(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", [{"text": f"{DRUGS} {i}"} for i in range(3000)])
    pipeline = f'"{sys.executable}" -m arabictopics classify "{src}" | head -1; echo "rc=${{PIPESTATUS[0]}}"'
    proc = _run(["bash", "-c", pipeline])
    first, status = proc.stdout.splitlines()
    assert json.loads(first)["id"] == f"{src}:1"
    assert status == "rc=0" and proc.stderr == ""


# ---- Ctrl-C ----------------------------------------------------------------------------------


class _EndlessRun:
    """``classify --input-format jsonl -`` fed an endless JSONL stream on stdin,
    in its own process group, stdout and stderr in files."""

    def __init__(self, tmp_path: Path, *args: str):
        self.stdout = tmp_path / "stdout.jsonl"
        self.stderr = tmp_path / "stderr.txt"
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "arabictopics", "classify", "--input-format", "jsonl", "--chunk-size", "50",
                 *args, "-"],
                stdin=subprocess.PIPE, stdout=out, stderr=err, env=ENV, cwd=ROOT, start_new_session=True,
            )  # fmt: skip
        self.feeder = threading.Thread(target=self._feed, args=(self.proc.stdin.fileno(),), daemon=True)
        self.feeder.start()

    @staticmethod
    def _feed(fd: int) -> None:
        try:  # os.write, not the buffered file: closing it must never wait for this thread
            for i in range(10**9):
                os.write(fd, json.dumps({"id": str(i), "text": f"{DRUGS} {i}"}, ensure_ascii=False).encode() + b"\n")
        except OSError:  # the run ended: broken pipe
            pass

    def wait_until(self, ready, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            assert self.proc.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline, "no output"
            time.sleep(0.05)
        time.sleep(0.3)

    def workers(self) -> list[int]:
        """Worker processes (children of the main process but resource trackers)."""
        found = []
        for entry in Path("/proc").iterdir():
            try:
                stat_fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cmdline = (entry / "cmdline").read_bytes()
            except (OSError, IndexError):
                continue
            if int(stat_fields[1]) == self.proc.pid and b"resource_tracker" not in cmdline:
                found.append(int(entry.name))
        return found

    def finish(self, timeout: float = 60) -> tuple[int | str, str]:
        """Exit code (or "hung"), stderr; the process group is killed whatever happens."""
        try:
            code: int | str = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = "hung"
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # workers, if anything is left
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc.stdin.close()
        self.feeder.join(timeout=10)
        return code, self.stderr.read_text(encoding="utf-8")


def _valid_prefix(text: str) -> list[dict]:
    assert text.endswith("\n")
    records = _records(text)
    assert [r["id"] for r in records] == [str(i) for i in range(len(records))]
    return records


def test_sigint_flushes_completed_results(tmp_path):
    run = _EndlessRun(tmp_path)
    run.wait_until(lambda: run.stdout.stat().st_size > 0)
    os.killpg(run.proc.pid, signal.SIGINT)  # like Ctrl-C in a terminal: the whole process group
    code, err = run.finish()
    assert code == 130, err
    records = _valid_prefix(run.stdout.read_text(encoding="utf-8"))
    assert len(records) >= 50 and all("drugs" in r["labels"] for r in records)
    assert f"interrupted after {len(records)} record(s)" in err and "Traceback" not in err


def test_sigint_with_jobs_flushes_completed_results(tmp_path):
    run = _EndlessRun(tmp_path, "--jobs", "2")
    run.wait_until(lambda: run.stdout.stat().st_size > 0)
    os.kill(run.proc.pid, signal.SIGINT)  # the main process, as `kill -INT PID` does
    code, err = run.finish()
    assert code == 130, err
    records = _valid_prefix(run.stdout.read_text(encoding="utf-8"))
    assert f"interrupted after {len(records)} record(s)" in err and "Traceback" not in err
    assert "Warning" not in err  # joblib's "tasks … cancelled" is filtered


def test_ctrl_c_with_jobs_is_left_to_the_main_process(tmp_path):
    # Workers that died of a terminal's Ctrl-C while the main process finished its chunk could leave joblib
    # waiting forever for a half-sent result: `classify --jobs 2` hung in 2 runs of 8 on one core.
    run = _EndlessRun(tmp_path, "--jobs", "2")
    try:
        run.wait_until(lambda: run.stdout.stat().st_size > 0 and len(run.workers()) == 2)
        workers = run.workers()
        for pid in workers:
            os.kill(pid, signal.SIGINT)  # the share of a terminal's Ctrl-C that reaches the workers
        time.sleep(1.0)
        assert run.proc.poll() is None and sorted(run.workers()) == sorted(workers), "workers died of SIGINT"
        os.kill(run.proc.pid, signal.SIGINT)
    finally:
        code, err = run.finish()
    assert code == 130, err
    _valid_prefix(run.stdout.read_text(encoding="utf-8"))


def test_sigint_with_output_file_keeps_partial_and_no_file(tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "out.jsonl"
    run = _EndlessRun(tmp_path, "-o", str(target))
    run.wait_until(lambda: any(p.name.endswith(".tmp") and p.stat().st_size > 0 for p in out_dir.iterdir()))
    os.killpg(run.proc.pid, signal.SIGINT)
    code, err = run.finish()
    assert code == 130, err
    partial = out_dir / "out.jsonl.partial"
    assert not target.exists() and partial.exists() and run.stdout.read_text() == ""
    records = _valid_prefix(partial.read_text(encoding="utf-8"))
    assert f"interrupted after {len(records)} record(s); completed results kept in {partial}" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["out.jsonl.partial"]


class _SigintMidWrite(io.StringIO):
    """Standard output that receives a real SIGINT while it writes its third
    record, after half of it reached the stream (what happens when Ctrl-C
    interrupts a write to a pipe: without deferring SIGINT, ~1 run in 6 of
    ``classify big.jsonl | consumer`` ended in half a record)."""

    def __init__(self) -> None:
        super().__init__()
        self.records = 0

    def write(self, text: str) -> int:
        for line in text.splitlines(keepends=True):
            self.records += 1
            if self.records == 3:
                super().write(line[: len(line) // 2])
                signal.raise_signal(signal.SIGINT)
                super().write(line[len(line) // 2 :])
            else:
                super().write(line)
        return len(text)


def test_sigint_during_a_write_leaves_whole_records(tmp_path, monkeypatch, capsys):
    src = _jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": f"{DRUGS} {i}"} for i in range(6)])
    stdout = _SigintMidWrite()
    monkeypatch.setattr(sys, "stdout", stdout)
    try:
        code = main(["classify", "-q", "--format", "jsonl", "--chunk-size", "2", str(src)])
    except KeyboardInterrupt:  # pragma: no cover - would mean the CLI let it escape
        pytest.fail("KeyboardInterrupt escaped main()")
    assert code == 130
    records = _valid_prefix(stdout.getvalue())
    assert len(records) % 2 == 0 and len(records) >= 3  # whole chunks (of 2): the one being written is finished
    assert "interrupted after" in capsys.readouterr().err


# ---- training data ------------------------------------------------------------------------------

GOOD = [{"id": str(i), "text": f"{DRUGS} {i}", "labels": ["drugs"]} for i in range(6)] + [
    {"id": f"n{i}", "text": f"{FOOTBALL} {i}", "labels": []} for i in range(6)
]


@pytest.mark.parametrize(
    "bad_line, expected",
    [
        ({"id": "x", "labels": ["drugs"]}, "{path}:13: missing or empty text"),
        ({"id": "x", "text": "   ", "labels": []}, "{path}:13: missing or empty text"),
        ({"id": "3", "text": DRUGS, "labels": ["drugs"]}, "{path}:13: duplicate id '3' (first at {path}:4)"),
        ({"id": "x", "text": DRUGS, "labels": 5}, "{path}:13: labels must be a list"),
        ({"id": "x", "text": DRUGS, "labels": {"drugs": 1}}, "{path}:13: labels must be a list"),
        ({"id": "x", "text": DRUGS, "labels": ["drugs", 7]}, "{path}:13: labels must be a list"),
        ({"id": "x", "text": DRUGS}, "{path}:13: no 'labels' field"),
        ("{broken", "{path}:13: not valid JSON"),
        (b'{"id": "x", "text": "\xff", "labels": []}', "{path}:13: not UTF-8 (byte "),
    ],
    ids=["missing text", "blank text", "duplicate id", "labels int", "labels dict", "label not str", "no labels",
         "bad json", "bad utf-8"],
)  # fmt: skip
def test_bad_training_data_names_file_and_line_and_writes_no_model(tmp_path, capsys, bad_line, expected):
    path = _jsonl(tmp_path / "train.jsonl", GOOD)
    with open(path, "ab") as fh:
        line = bad_line if isinstance(bad_line, (bytes, str)) else json.dumps(bad_line, ensure_ascii=False)
        fh.write((line if isinstance(line, bytes) else line.encode()) + b"\n")
    model = tmp_path / "m.atm"
    assert main(["train", str(path), "-o", str(model), "--cv", "2", "-q"]) == 2
    assert expected.format(path=path) in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.jsonl"]  # no model, no report, no temp file


def test_unknown_labels_name_file_and_line(tmp_path):
    path = _jsonl(tmp_path / "train.jsonl", [*GOOD, {"id": "x", "text": DRUGS, "labels": ["drgus"]}])
    model = tmp_path / "m.atm"
    with pytest.raises(DataError, match=rf"{path}:13: unknown label\(s\) drgus \(known: drones, drugs\)"):
        train(path, known_labels=["drugs", "drones"], cv=2, output=model)
    assert not model.exists()


def test_requested_theme_absent_from_data_is_an_error(tmp_path):
    # a typo in --labels used to train, silently, a model without that theme
    path = _jsonl(tmp_path / "train.jsonl", GOOD)
    model = tmp_path / "m.atm"
    with pytest.raises(DataError, match="dronse"):
        train(path, labels=["drugs", "dronse"], cv=2, output=model)
    assert not model.exists()


def test_empty_data_set_names_the_file(tmp_path, capsys):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n \n", encoding="utf-8")
    model = tmp_path / "m.atm"
    assert main(["train", str(path), "-o", str(model), "-q"]) == 2
    assert f"{path}: no articles" in capsys.readouterr().err
    assert not model.exists()


def test_too_few_examples_names_the_theme(tmp_path, capsys):
    rows = [*GOOD, {"id": "d", "text": "اعتراض طائرة مسيرة", "labels": ["drones"]}]
    path = _jsonl(tmp_path / "train.jsonl", rows)
    model = tmp_path / "m.atm"
    assert main(["train", str(path), "-o", str(model), "--cv", "3", "-q"]) == 2
    assert "too few examples for 3-fold cross-validation: drones (1)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.jsonl"]


def test_csv_fields_may_hold_line_separators(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text(f"id,text,labels\n1,{DRUGS}\x0cتتمة\u2028سطر,drugs\n2,{FOOTBALL},\n", encoding="utf-8")
    data = load_labeled(path)
    assert data.labels == [["drugs"], []] and data.texts[0].endswith("تتمة\u2028سطر")


@pytest.mark.parametrize(
    "line, problem",
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"id": 1' + "0" * 5000 + ', "text": "x", "labels": []}', "Exceeds the limit"),
        ('{"text": "\\ud800", "labels": []}', "unpaired surrogate"),
    ],
    ids=["deep nesting", "huge integer", "lone surrogate"],
)
def test_pathological_json_lines(tmp_path, line, problem):
    path = tmp_path / "train.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=f"{path}:1: .*{problem}"):
        load_labeled(path)
    [doc] = iter_documents([str(path)])
    assert doc.error and doc.error.startswith("line 1: ")


# ---- model files ----------------------------------------------------------------------------------


@pytest.fixture()
def saved(small_model, tmp_path):
    path = tmp_path / "m.atm"
    save_model(small_model, path)
    return path


def _members(path: Path) -> tuple[dict, dict]:
    members = model_members(path)
    return json.loads(members.pop("metadata.json")), members


class _MakesDirectory:
    """Unpickling this object creates a directory: a visible side effect."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path,)


def test_a_pickle_in_a_model_file_is_never_run(saved, tmp_path):
    # A format-2 file holds data: a pickle planted in it, even with a matching checksum, is refused unread;
    # a format-1 file (a pickle) is refused with the way to convert it.
    marker = tmp_path / "unpickled"
    meta, members = _members(saved)
    payload = pickle.dumps(_MakesDirectory(marker))
    write_model_members(saved, {"metadata.json": json.dumps(meta), **members, "model.json": payload})  # re-signed
    with pytest.raises(ModelError, match="model.json is not JSON"):
        load_model(saved)
    write_model_members(saved, {"metadata.json": json.dumps(meta), **members, "pickled/0.pkl": payload})
    assert load_model(saved) is not None  # a member nothing points at is never read as a pickle
    old = {**meta, "format": 1, "payload_sha256": hashlib.sha256(payload).hexdigest()}
    write_model_members(saved, {"metadata.json": json.dumps(old), "model.joblib": payload}, resign=False)
    with pytest.raises(ModelError, match="format-1.*arabictopics convert"):
        load_model(saved)
    assert not marker.exists()  # never unpickled


@pytest.mark.parametrize(
    "members, message",
    [
        ({"model.json": b"x"}, "has no metadata.json"),
        ({"readme.txt": "hello"}, "has no metadata.json"),
        ({"metadata.json": "[1, 2]"}, "metadata is not a JSON object \\(list\\)"),
        ({"metadata.json": '{"library": "arabictopics"}'}, "metadata lacks format"),
    ],
    ids=["no metadata", "foreign zip", "metadata not an object", "metadata incomplete"],
)
def test_missing_or_foreign_metadata(tmp_path, members, message):
    path = tmp_path / "m.atm"
    write_model_members(path, members, resign=False)
    with pytest.raises(ModelError, match=message):
        load_model(path)


def test_metadata_with_wrong_types(saved):
    meta, members = _members(saved)
    meta["payload_sha256"] = 12345
    write_model_members(saved, {"metadata.json": json.dumps(meta), **members}, resign=False)
    with pytest.raises(ModelError, match="malformed"):
        load_model(saved)


def test_thresholds_not_matching(saved):
    meta, members = _members(saved)
    meta["thresholds"] = [t / 2 for t in meta["thresholds"]]
    write_model_members(saved, {"metadata.json": json.dumps(meta), **members}, resign=False)
    with pytest.raises(ModelError, match="does not match its model"):
        load_model(saved)


def _metadata_data_offset(raw: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        info = zf.getinfo("metadata.json")
    name_len = int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28 : info.header_offset + 30], "little")
    return info.header_offset + 30 + name_len + extra_len


def test_damaged_compressed_metadata(saved):
    raw = bytearray(saved.read_bytes())
    raw[_metadata_data_offset(bytes(raw))] = 0xFF  # an invalid deflate block: zlib.error
    saved.write_bytes(bytes(raw))
    with pytest.raises(ModelError, match="metadata is unreadable"):
        load_model(saved)


def test_unknown_compression_method(saved):
    raw = bytearray(saved.read_bytes())
    central = raw.rindex(b"PK\x01\x02")  # the last central-directory entry: an array
    raw[central + 10 : central + 12] = (99).to_bytes(2, "little")
    saved.write_bytes(bytes(raw))
    with pytest.raises(ModelError, match="damaged"):
        load_model(saved)


def test_save_interrupted_inside_the_write_keeps_old_model(saved, small_model, monkeypatch):
    before = saved.read_bytes()
    real_writestr = zipfile.ZipFile.writestr

    def writestr(self, name, data, *args, **kwargs):
        if name == "model.json":  # metadata already written: half a new file exists
            real_writestr(self, name, data[: len(data) // 2], *args, **kwargs)
            raise KeyboardInterrupt
        return real_writestr(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    with pytest.raises(KeyboardInterrupt):
        save_model(small_model, saved)
    monkeypatch.undo()
    assert saved.read_bytes() == before
    assert list(load_model(saved).classes_) == list(small_model.classes_)
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]


def test_saved_model_gets_the_usual_mode(saved, tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert stat.S_IMODE(os.stat(saved).st_mode) == stat.S_IMODE(os.stat(plain).st_mode)


# ---- concurrency ----------------------------------------------------------------------------------


def test_classify_from_many_threads_equals_single_thread(default_model, records):
    texts = [r["text"] for r in records[:160]] + ["", FOOTBALL, DRUGS * 50]
    expected = [default_model.classify(t) for t in texts]
    batches = [texts[i : i + 7] for i in range(0, len(texts), 7)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        singles = list(pool.map(default_model.classify, texts))
        batched = [r for batch in pool.map(default_model.classify_many, batches) for r in batch]
    assert singles == expected and batched == expected


def test_model_pickles_for_process_pools(default_model, records):
    texts = [r["text"] for r in records[:40]]
    expected = default_model.classify_many(texts)
    assert pickle.loads(pickle.dumps(default_model)).classify_many(texts) == expected
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        halves = list(pool.map(default_model.classify_many, [texts[:20], texts[20:]]))
    assert halves[0] + halves[1] == expected


# ---- the documentation ------------------------------------------------------------------------------


def test_robustness_doc_names_only_existing_tests():
    doc = (ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    files = {"R": "tests/test_robustness.py", "F": "tests/test_fuzz.py"}
    refs = re.findall(r"\b(R|F|tests/test_\w+\.py)::(test_\w+)((?:\[[^\]]+\](?:, \[[^\]]+\])*)?)", doc)
    assert len(refs) > 80
    for prefix, name, ids in refs:
        source = (ROOT / files.get(prefix, prefix)).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, re.MULTILINE), f"{prefix}::{name} does not exist"
        for case in re.findall(r"\[([^\]]+)\]", ids):
            assert f'"{case}"' in source or f"'{case}'" in source, f"{prefix}::{name}[{case}] does not exist"


def test_unreadable_file_in_a_label_folder_is_reported(tmp_path, monkeypatch):
    (tmp_path / "drugs").mkdir()
    (tmp_path / "drugs" / "a.txt").write_text(DRUGS, encoding="utf-8")
    (tmp_path / "drugs" / "secret.txt").write_text(DRUGS, encoding="utf-8")
    _deny(monkeypatch, "read_bytes", "secret.txt")
    with pytest.raises(DataError, match=r"secret\.txt: cannot read \(Permission denied\)"):
        load_labeled(tmp_path)


# ---- terminal safety -------------------------------------------------------------------


def test_table_escapes_control_characters_in_ids(tmp_path):
    # An id holding an ANSI "clear screen", a carriage return or a bidi override would act on the terminal;
    # the table shows them as escapes instead (JSONL keeps the id exactly: it is data, not display).
    hostile = "a\x1b[2J\x1b[31mred\rb\u202eevil"
    src = _jsonl(tmp_path / "in.jsonl", [{"id": hostile, "text": DRUGS}])
    table = _run([sys.executable, "-m", "arabictopics", "classify", str(src), "--format", "table", "-q"])
    assert table.returncode == 0, table.stderr
    assert "\x1b" not in table.stdout and "\r" not in table.stdout and "\u202e" not in table.stdout
    assert "\\x1b[2J" in table.stdout and "\\r" in table.stdout and "\\u202e" in table.stdout
    jsonl = _run([sys.executable, "-m", "arabictopics", "classify", str(src), "--format", "jsonl", "-q"])
    assert _records(jsonl.stdout)[0]["id"] == hostile


# ---- train writes the model and its report as one commit ----------------------------------


def test_train_report_path_is_a_directory_writes_nothing(tmp_path, records):
    data = _jsonl(tmp_path / "train.jsonl", [r for r in records if set(r["labels"]) <= {"drugs"}][:60])
    model = tmp_path / "m.atm"
    (tmp_path / "m.atm.report.json").mkdir()
    proc = _run([sys.executable, "-m", "arabictopics", "train", str(data), "-o", str(model), "--cv", "2", "-q"])
    assert proc.returncode == 2 and "is a directory" in proc.stderr
    assert not model.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["m.atm.report.json", "train.jsonl"]


def test_train_writes_model_and_report_together_or_neither(tmp_path, records, monkeypatch):
    # Writing the report fails (a full disk) after the model's temporary file is complete: neither file
    # appears, no temporary file is left, and an older model at the path is untouched.
    from arabictopics import persistence

    data = _jsonl(tmp_path / "train.jsonl", [r for r in records if set(r["labels"]) <= {"drugs"}][:60])
    model = tmp_path / "m.atm"
    model.write_bytes(b"an older model")
    real_temporary = persistence._temporary

    def temporary(path):
        if str(path).endswith(".report.json"):
            raise OSError(28, "No space left on device", str(path))
        return real_temporary(path)

    monkeypatch.setattr(persistence, "_temporary", temporary)
    assert main(["train", str(data), "-o", str(model), "--cv", "2", "-q"]) == 2
    assert model.read_bytes() == b"an older model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.atm", "train.jsonl"]


# ---- -o and what stands at the path --------------------------------------------------------


def _classify_to(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-m", "arabictopics", "classify", str(src), "-q", "-o", str(out), *extra])


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a character device node needs root")
def test_output_to_a_device_node_writes_through_it(tmp_path):
    # Before: `-o fakenull` renamed a regular file over the device node (as root), turning it into a file.
    src = _jsonl(tmp_path / "in.jsonl", [{"text": DRUGS}])
    null = tmp_path / "fakenull"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    proc = _classify_to(src, null)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(os.stat(null).st_mode)  # still the device
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fakenull", "in.jsonl"]  # no temp file left


def test_output_to_a_fifo_is_streamed(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", [{"text": DRUGS}, {"text": FOOTBALL}])
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")), daemon=True)
    reader.start()
    proc = _classify_to(src, fifo)
    reader.join(30)  # a daemon: if the FIFO was replaced instead of written, the reader never returns
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and len(_records(got[0])) == 2


def test_output_through_a_symlink_writes_its_target_and_keeps_the_mode(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", [{"text": DRUGS}])
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "results.jsonl"
    target.write_text("old\n")
    os.chmod(target, 0o600)
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    proc = _classify_to(src, link)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)  # the link is still a link
    assert len(_records(target.read_text(encoding="utf-8"))) == 1  # ... and its target got the results
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600  # with the mode it had
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["results.jsonl"]


def test_train_output_that_is_a_device_is_refused_before_training(tmp_path, records):
    data = _jsonl(tmp_path / "train.jsonl", [r for r in records if set(r["labels"]) <= {"drugs"}][:60])
    fifo = tmp_path / "m.atm"
    os.mkfifo(fifo)
    proc = _run([sys.executable, "-m", "arabictopics", "train", str(data), "-o", str(fifo), "--cv", "2", "-q"])
    assert proc.returncode == 2 and "not a regular file" in proc.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


# ---- CSV/TSV: one stray quote must not swallow the rest of the file -----------------------------


def _csv_rows(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_csv_stray_quote_is_an_error_not_lost_rows(tmp_path):
    # Before: a header, `1,ok`, `2,"broken quote`, then 100,000 rows gave 2 records and exit 0.
    rows = ["id,text", "1,ok", '2,"broken quote'] + [f"{i},{DRUGS}" for i in range(3, 100_003)]
    src = _csv_rows(tmp_path / "in.csv", rows)
    out = tmp_path / "out.jsonl"
    proc = _run([sys.executable, "-m", "arabictopics", "classify", str(src), "-q", "-o", str(out)])
    assert proc.returncode == 2
    assert "line 3: a quoted field opens here and runs to line 100003 (the end of the file)" in proc.stderr
    assert "--quoting none" in proc.stderr and not out.exists()
    proc = _run(
        [sys.executable, "-m", "arabictopics", "classify", str(src), "-q", "--quoting", "none", "--chunk-size", "4096"]
    )
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == len(rows) - 1  # one output per input row


def test_tsv_text_starting_with_a_quote(tmp_path):
    rows = ["id\ttext", f'1\t"{DRUGS}', *(f"{i}\t{FOOTBALL}" for i in range(2, 40))]
    src = _csv_rows(tmp_path / "in.tsv", rows)
    proc = _run([sys.executable, "-m", "arabictopics", "classify", str(src), "-q", "--format", "jsonl"])
    assert proc.returncode == 2 and "as TSV files usually need" in proc.stderr
    proc = _run([sys.executable, "-m", "arabictopics", "classify", str(src), "-q", "--quoting", "none"])
    records = _records(proc.stdout)
    assert proc.returncode == 0 and [r["id"] for r in records] == [str(i) for i in range(1, 40)]
    assert "drugs" in records[0]["labels"]


def test_csv_quoted_fields_with_line_breaks_still_read(tmp_path):
    # Balanced quotes over several lines are a field with paragraphs, not an error.
    rows = ["id,text", f'1,"{DRUGS}', "", f'{FOOTBALL}"', f"2,{DRUGS}", f'3,"{FOOTBALL}, ""quoted"""']
    src = _csv_rows(tmp_path / "in.csv", rows)
    proc = _run([sys.executable, "-m", "arabictopics", "classify", str(src), "-q", "--format", "jsonl"])
    assert proc.returncode == 0 and [r["id"] for r in _records(proc.stdout)] == ["1", "2", "3"]


# ---- SIGTERM, SIGKILL, a killed worker, a stalled input ------------------------------------------


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _alive(pids)


def test_sigterm_keeps_completed_results_like_ctrl_c(tmp_path):
    # Before: exit 143 from the default action, a hidden .out.jsonl.*.tmp left behind and no .partial.
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "out.jsonl"
    run = _EndlessRun(tmp_path, "-o", str(target))
    run.wait_until(lambda: any(p.name.endswith(".tmp") and p.stat().st_size > 0 for p in out_dir.iterdir()))
    os.kill(run.proc.pid, signal.SIGTERM)
    code, err = run.finish()
    assert code == 143, err
    partial = out_dir / "out.jsonl.partial"
    records = _valid_prefix(partial.read_text(encoding="utf-8"))
    assert f"terminated (SIGTERM) after {len(records)} record(s); completed results kept in {partial}" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["out.jsonl.partial"] and "Traceback" not in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_no_worker_outlives_the_main_process(tmp_path, sig):
    # Before: after SIGTERM with --jobs 2, two ~215 MB workers were still alive, orphaned, 10 minutes later.
    run = _EndlessRun(tmp_path, "--jobs", "2")
    try:
        run.wait_until(lambda: run.stdout.stat().st_size > 0 and len(run.workers()) == 2)
        workers = run.workers()
        os.kill(run.proc.pid, sig)  # the main process only, as a supervisor does
        run.proc.wait(timeout=60)
        assert _gone_within(workers, 10) == [], "workers outlived the main process"
    finally:
        code, err = run.finish()
    if sig == signal.SIGTERM:
        assert code == 143 and "Traceback" not in err, err
        _valid_prefix(run.stdout.read_text(encoding="utf-8"))


def test_a_killed_worker_is_a_clear_error(tmp_path):
    # Before: a raw TerminatedWorkerError traceback and exit 1 ("some records failed").
    out = tmp_path / "out.jsonl"
    out.write_text("the previous results\n")
    run = _EndlessRun(tmp_path, "--jobs", "2", "-o", str(out))
    try:
        run.wait_until(lambda: len(run.workers()) == 2 and any(p.suffix == ".tmp" for p in tmp_path.iterdir()))
        os.kill(run.workers()[0], signal.SIGKILL)  # as the OOM killer does
        code, err = run.finish()
    finally:
        run.finish()
    assert code == 2, err
    assert "a worker process died" in err and "out of memory" in err and "Traceback" not in err
    assert out.read_text() == "the previous results\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.jsonl")]


def test_ctrl_c_while_the_input_stalls_keeps_what_was_read(tmp_path):
    # Ten records arrive, then the input stalls. Before: the second Ctrl-C lost them ("after 0 record(s)").
    proc = subprocess.Popen(
        [sys.executable, "-m", "arabictopics", "classify", "--input-format", "jsonl", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    try:
        for i in range(10):
            proc.stdin.write(json.dumps({"id": str(i), "text": DRUGS}, ensure_ascii=False).encode() + b"\n")
        proc.stdin.flush()
        time.sleep(3)  # the model is loaded and the ten lines are read; the input now stalls
        os.kill(proc.pid, signal.SIGINT)
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert len(_valid_prefix(out.decode("utf-8"))) == 10 and b"interrupted after 10 record(s)" in err


def test_head_with_jobs_is_quiet(tmp_path):
    # Before: `classify … --jobs 2 | head -1` printed joblib's "tasks … cancelled" UserWarning on stderr.
    src = _jsonl(tmp_path / "in.jsonl", [{"text": f"{DRUGS} {i}"} for i in range(3000)])
    pipeline = (
        f'"{sys.executable}" -m arabictopics classify "{src}" --jobs 2 --chunk-size 50 | head -1 >/dev/null; '
        'echo "rc=${PIPESTATUS[0]}"'
    )
    proc = subprocess.run(["bash", "-c", pipeline], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=300)
    assert proc.stdout.strip() == "rc=0" and proc.stderr == "", proc.stderr


# ---- model files: what loading may read, and which bytes the workers load ------------------------


def test_model_path_to_dev_zero_or_a_fifo_is_refused_at_once(tmp_path):
    # Before: `info devzero.atm` was OOM-killed at 24 GB; `info fifo.atm` hung.
    devzero = tmp_path / "devzero.atm"
    devzero.symlink_to("/dev/zero")
    fifo = tmp_path / "fifo.atm"
    os.mkfifo(fifo)
    for path in (devzero, fifo):
        proc = _run([sys.executable, "-m", "arabictopics", "info", str(path)], timeout=60)
        assert proc.returncode == 2 and "is not a regular file" in proc.stderr, proc.stderr
        with pytest.raises(ModelError, match="not a regular file"):
            load_model(path)


def _zip_with(path: Path, metadata: bytes, payload: bytes = b"x", bomb: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in (("metadata.json", metadata), ("model.joblib", payload)):
            if name == bomb:  # 1 GiB of spaces in about 1 MB: what a member may declare
                with zf.open(name, "w", force_zip64=True) as member:
                    for _ in range(1024):
                        member.write(b" " * (1 << 20))
            else:
                zf.writestr(name, data)
    return path


def test_zip_bombs_and_odd_metadata_are_model_errors_within_bounded_memory(tmp_path, saved_model_meta):
    # Before: a metadata member declaring 1 GiB cost 2.1 GB RSS even in `info`; a payload bomb 2.1 GB before its
    # checksum failed; metadata `[1, 2]` or `null` gave a raw TypeError.
    cases = {
        "metadata bomb": _zip_with(tmp_path / "a.atm", b"", bomb="metadata.json"),
        "payload bomb": _zip_with(tmp_path / "b.atm", json.dumps(saved_model_meta).encode(), bomb="model.joblib"),
        "metadata list": _zip_with(tmp_path / "c.atm", b"[1, 2]"),
        "metadata null": _zip_with(tmp_path / "d.atm", b"null"),
    }
    code = (  # the peak RSS of this process's own memory (VmHWM; ru_maxrss would include the forking parent's)
        "import re, sys; from arabictopics import ModelError, load_model, read_model_metadata\n"
        "for path in sys.argv[1:]:\n"
        "    for fn in (read_model_metadata, load_model):\n"
        "        try:\n"
        "            fn(path)\n"
        "        except ModelError as exc:\n"
        "            print('ModelError', exc)\n"
        "print('MAXRSS', re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
    )
    proc = _run([sys.executable, "-c", code, *map(str, cases.values())], timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert sum(line.startswith("ModelError") for line in lines) == 7, proc.stdout  # the payload bomb's metadata reads
    assert "declares 1073741824 bytes" in proc.stdout and "not a JSON object (list)" in proc.stdout
    assert int(lines[-1].split()[1]) < 400 * 1024, "loading read far more than its bounds"  # KiB


@pytest.fixture()
def saved_model_meta(tmp_path):
    """Metadata that passes every check, declaring a small payload."""
    from arabictopics.persistence import read_model_metadata

    meta = read_model_metadata()
    meta = {**meta, "payload_bytes": 10}
    return meta


def test_workers_load_exactly_the_model_that_was_checked(tmp_path, records, monkeypatch):
    # Before: a model file swapped after the main process checked it was loaded by the workers: a CSV header of
    # the first model's themes with the second model's scores, and exit 0.
    from arabictopics import scoring
    from arabictopics.scoring import ModelFile, score_chunk

    monkeypatch.setattr(scoring, "_worker_models", {})
    first, second = tmp_path / "first.atm", tmp_path / "second.atm"
    subset = [r for r in records if r["labels"] == ["drugs"]][:20] + [r for r in records if r["labels"] == ["drones"]][
        :20
    ]
    data = _jsonl(tmp_path / "t.jsonl", subset + [r for r in records if not r["labels"]][:20])
    train(data, labels=["drugs"], cv=2, output=first)
    train(data, labels=["drones"], cv=2, output=second)
    checked = ModelFile(str(first), read_model_metadata(first)["payload_sha256"])
    os.replace(second, first)  # the file is replaced after the check
    docs = list(iter_documents([str(_jsonl(tmp_path / "in.jsonl", [{"text": DRUGS}]))]))
    with pytest.raises(ModelError, match="changed during the run"):
        score_chunk(checked, docs)


# ---- training data that cannot make a useful model --------------------------------------------------


def _train_cli(*args: str) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-m", "arabictopics", "train", *args, "-q"])


def test_training_data_that_cannot_make_a_useful_model_is_refused(tmp_path, records):
    # Before, every one of these exited 0 and wrote a model that labeled sport and culture news with its theme.
    drugs = [r for r in records if r["labels"] == ["drugs"]]
    all_drugs = _jsonl(tmp_path / "all_drugs.jsonl", drugs[:26])
    folder = tmp_path / "folder"
    for theme in ("drugs", "drones"):
        (folder / theme).mkdir(parents=True)
        for i, r in enumerate([r for r in records if r["labels"] == [theme]][:8]):
            (folder / theme / f"{i}.txt").write_text(r["text"], encoding="utf-8")
    three = _jsonl(tmp_path / "three.jsonl", [r for r in records if r["labels"] == ["border_security"]][:3])
    mixed = _jsonl(tmp_path / "mixed.jsonl", drugs[:12] + [r for r in records if not r["labels"]][:12])
    cases = [
        ([str(all_drugs)], "drugs is on every article (26 of 26)"),
        ([str(folder), "--cv", "2"], "every article carries a theme (16 of 16)"),
        ([str(three), "--cv", "0"], "every article carries a theme"),
        ([str(mixed), "--cv", "-3"], "cv=-3 makes no sense"),
        ([str(mixed), "--cv", "1"], "cv=1 makes no sense"),
    ]
    for args, message in cases:
        model = tmp_path / "m.atm"
        proc = _train_cli(*args, "-o", str(model))
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
        assert "none/ folder" in proc.stderr or "every article" not in message
        assert not model.exists()
    proc = _train_cli(str(folder), "--cv", "2", "--allow-no-negatives", "-o", str(tmp_path / "ok.atm"))
    assert proc.returncode == 0, proc.stderr
    assert "drugs has only 8 articles" in proc.stderr  # doubtful but possible: a warning ...
    meta = read_model_metadata(tmp_path / "ok.atm")
    assert any("drugs has only 8 articles" in w for w in meta["warnings"])  # ... and in the model's metadata
    stats = _run([sys.executable, "-m", "arabictopics", "stats", str(all_drugs)])
    assert stats.returncode == 1 and "drugs is on every article" in stats.stdout


def test_a_misspelt_label_lists_what_the_data_has(tmp_path, records):
    data = _jsonl(tmp_path / "d.jsonl", records[:300])
    proc = _train_cli(str(data), "--labels", "drugs,dronse", "-o", str(tmp_path / "m.atm"))
    assert proc.returncode == 2 and "'dronse'" in proc.stderr
    themes = sorted({label for r in records[:300] for label in r["labels"]})
    assert f"the data has: {', '.join(themes)}" in proc.stderr and len(themes) > 2  # before: "the data has: drugs"


def test_evaluate_with_unknown_labels_says_so(tmp_path, records):
    # Before: "Drugs" instead of "drugs" silently counted as no label (micro-F1 0.794 -> 0.748, exit 0).
    rows = [
        dict(r, labels=[label.capitalize() if label == "drugs" else label for label in r["labels"]])
        for r in records[:80]
    ]
    data = _jsonl(tmp_path / "held.jsonl", rows)
    proc = _run([sys.executable, "-m", "arabictopics", "evaluate", "default", str(data)])
    assert proc.returncode == 2
    assert (
        "'Drugs' (" in proc.stderr and "did you mean 'drugs'?" in proc.stderr and "The model's labels:" in proc.stderr
    )
    proc = _run([sys.executable, "-m", "arabictopics", "evaluate", "default", str(data), "--ignore-unknown-labels"])
    assert proc.returncode == 0 and "ignored" in proc.stderr and "Drugs" in proc.stderr


# ---- a run that did nothing must not look like success ------------------------------------------------


def _classify(*args: str) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-m", "arabictopics", "classify", *args, "-q"])


def test_no_input_articles_is_an_error(tmp_path):
    # Before: an empty directory, one with only .md files, or an empty JSONL printed nothing and exited 0
    # (with -o: an empty file).
    empty = tmp_path / "empty"
    empty.mkdir()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.md").write_text(DRUGS, encoding="utf-8")
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n", encoding="utf-8")
    for source in (empty, notes, blank):
        out = tmp_path / "out.jsonl"
        proc = _classify(str(source), "-o", str(out))
        assert proc.returncode == 2 and "no input articles found" in proc.stderr, proc.stderr
        assert "*.txt" in proc.stderr and "*.jsonl" in proc.stderr and not out.exists()


def test_data_files_inside_directories_are_read_by_their_format(tmp_path):
    # Before: a directory of .jsonl files printed nothing and exited 0.
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    _jsonl(feeds / "a.jsonl", [{"id": "a1", "text": DRUGS}, {"id": "a2", "text": FOOTBALL}])
    (feeds / "b.csv").write_text(f"id,text\nb1,{DRUGS}\n", encoding="utf-8")
    (feeds / "c.txt").write_text(DRUGS, encoding="utf-8")
    proc = _classify(str(feeds), "--format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    assert [r["id"] for r in _records(proc.stdout)] == ["a1", "a2", "b1", str(feeds / "c.txt")]


def test_a_named_column_that_is_absent_is_a_usage_error(tmp_path):
    # Before: a missing --id-column fell back to FILE:LINE ids silently in CSV, and a missing text column was
    # fatal in CSV but 50 error records in JSONL. Now the same rule for both: exit 2, naming the columns.
    csv_file = tmp_path / "feed.csv"
    csv_file.write_text(f"url,body\nu1,{DRUGS}\n", encoding="utf-8")
    jsonl_file = _jsonl(tmp_path / "feed.jsonl", [{"url": f"u{i}", "body": DRUGS} for i in range(1, 51)])
    for src in (csv_file, jsonl_file):
        proc = _classify(str(src), "--text-column", "body", "--id-column", "link")
        assert proc.returncode == 2 and "'link'" in proc.stderr and "--id-column" in proc.stderr, proc.stderr
        proc = _classify(str(src), "--text-column", "text")
        assert proc.returncode == 2 and "'text'" in proc.stderr and "--text-column" in proc.stderr, proc.stderr
        proc = _classify(str(src), "--text-column", "body", "--id-column", "url", "--format", "jsonl")
        assert proc.returncode == 0 and _records(proc.stdout)[0]["id"] == "u1"


def test_max_chars_above_the_models_limit_is_refused(tmp_path):
    # Before: --max-chars 200000 was accepted and articles were still cut at 100,000.
    src = tmp_path / "long.txt"
    src.write_text((DRUGS + ". ") * 3000, encoding="utf-8")
    for jobs in ("1", "2"):
        proc = _classify(str(src), "--max-chars", "200000", "--jobs", jobs)
        assert proc.returncode == 2 and "above the model's limit" in proc.stderr and "100000" in proc.stderr
    proc = _classify(str(src), "--max-chars", "50000", "--format", "jsonl")
    assert proc.returncode == 0 and _records(proc.stdout)[0]["truncated"] is True


def test_jobs_capped_at_the_usable_cores(tmp_path):
    # Before: --jobs 16 on 2 cores started 16 workers of ~160 MB; one article took 9.8 s with --jobs 64.
    src = _jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": DRUGS} for i in range(20)])
    cores = len(os.sched_getaffinity(0))
    proc = _classify(str(src), "--jobs", str(cores + 14), "--format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    assert f"--jobs {cores + 14} capped at {cores}" in proc.stderr
    assert [r["id"] for r in _records(proc.stdout)] == [str(i) for i in range(20)]


def test_jobs_capped_at_the_chunks_the_input_makes(tmp_path):
    # Before: one article with --jobs N started N worker processes (9.8 s with --jobs 64 against 1.5 s).
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs 2 usable cores")
    src = _jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": DRUGS} for i in range(5)])
    proc = _classify(str(src), "--jobs", "2", "--format", "jsonl")
    assert proc.returncode == 0 and "--jobs capped at 1: the input makes 1 chunk(s)" in proc.stderr
    assert [r["id"] for r in _records(proc.stdout)] == [str(i) for i in range(5)]
    proc = _classify(str(src), "--jobs", "2", "--chunk-size", "2", "--format", "jsonl")
    assert proc.returncode == 0 and "capped" not in proc.stderr  # 3 chunks: both workers have work
    assert [r["id"] for r in _records(proc.stdout)] == [str(i) for i in range(5)]
    proc = subprocess.run(
        [sys.executable, "-m", "arabictopics", "classify", "-", "--input-format", "jsonl", "--jobs", "2", "-q"],
        input=src.read_bytes(),
        capture_output=True,
        env=ENV,
        timeout=300,
    )
    assert proc.returncode == 0 and b"capped" not in proc.stderr  # a stream is never read ahead
    assert len(proc.stdout.splitlines()) == 5


def test_json_partial_is_valid_json(tmp_path):
    # Before: the .partial of a --format json run was an unterminated array.
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "out.json"
    run = _EndlessRun(tmp_path, "-o", str(target), "--format", "json")
    run.wait_until(lambda: any(p.name.endswith(".tmp") and p.stat().st_size > 0 for p in out_dir.iterdir()))
    os.killpg(run.proc.pid, signal.SIGINT)
    code, err = run.finish()
    assert code == 130, err
    records = json.loads((out_dir / "out.json.partial").read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == [str(i) for i in range(len(records))] and records
