"""End-to-end CLI tests through a subprocess, and parser tests in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arabictopics.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "article.txt"


def run(*args, input=None, check_code=None):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "arabictopics", *args],
        input=input,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
    )
    if check_code is not None:
        assert proc.returncode == check_code, proc.stderr
    return proc


def test_classify_example_article():
    proc = run("classify", "--format", "jsonl", str(EXAMPLE), check_code=0)
    [record] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert record["id"] == str(EXAMPLE)
    assert {"drones", "drugs", "border_security"} <= set(record["labels"])
    assert set(record["scores"]) == {
        "cybercrime",
        "drones",
        "drugs",
        "diplomacy",
        "terrorism",
        "organized_crime",
        "border_security",
        "civil_protection",
        "environment",
        "public_health",
        "technology",
        "training",
    }
    assert proc.stderr == ""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert set(record["evidence"]) == set(record["labels"])
    assert all(sentence in text for sentence in [*record["evidence"].values(), *record["mentions"].values()])
    assert not set(record["mentions"]) & set(record["labels"])


def test_stdin_table_and_json():
    proc = run("classify", "--format", "table", "-", input=EXAMPLE.read_text(encoding="utf-8"), check_code=0)
    assert "<stdin>" in proc.stdout and "drones" in proc.stdout
    proc = run("classify", "--format", "json", str(EXAMPLE), str(EXAMPLE), check_code=0)
    assert len(json.loads(proc.stdout)) == 2


def test_jsonl_stream_with_bad_line_keeps_order_and_exit_1(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "a", "text": "ضبط شحنة كبتاغون"}, ensure_ascii=False)
        + "\n{oops\n"
        + json.dumps({"id": "c", "text": "مباراة الهلال"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    proc = run("classify", "--input-format", "jsonl", str(src), "--chunk-size", "1", check_code=1)
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in records] == ["a", f"{src}:2", "c"]
    assert "line 2" in records[1]["error"]
    assert "1 of 3 record(s) failed" in proc.stderr
    strict = run("classify", "--strict", str(src), check_code=1)
    assert [json.loads(line)["id"] for line in strict.stdout.splitlines()] == ["a"]
    assert "--strict" in strict.stderr


def test_output_file_csv_and_jobs(tmp_path):
    src = tmp_path / "in.csv"
    rows = ["key,body"] + [f'{i},"ضبط شحنة مخدرات رقم {i} في المنفذ الحدودي"' for i in range(40)]
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = ["classify", str(src), "--text-column", "body", "--id-column", "key", "--chunk-size", "7", "-q"]
    run(*args, "-o", str(out), check_code=0)
    single = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    run(*args, "-o", str(out), "--jobs", "2", check_code=0)
    parallel = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in single] == [str(i) for i in range(40)]
    assert single == parallel
    csv_out = run(*args, "--format", "csv", check_code=0).stdout.splitlines()
    assert csv_out[0].startswith("id,labels,mentions,cybercrime") and len(csv_out) == 41
    assert csv_out[0].endswith(",evidence_technology,evidence_training,error")
    for fmt in ("csv", "json"):  # formatted in the workers: byte-identical to one process
        one = run(*args, "--format", fmt, check_code=0).stdout
        assert run(*args, "--format", fmt, "--jobs", "2", check_code=0).stdout == one
    assert len(json.loads(one)) == 40


def test_workers_parse_what_the_main_process_reads(tmp_path):
    # With --jobs the JSONL lines are parsed and the text files read in the workers:
    # blank lines, bad records and file errors come out as with one process.
    feed = tmp_path / "feed.jsonl"
    lines = [json.dumps({"id": f"j{i}", "text": f"ضبط شحنة كبتاغون رقم {i}"}, ensure_ascii=False) for i in range(6)]
    feed.write_text("\n".join(lines[:2] + ["", "{oops", "  "] + lines[2:]) + "\n", encoding="utf-8")
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("هجوم إرهابي على حاجز أمني", encoding="utf-8")
    (folder / "sub" / "b.txt").write_bytes(b"\xff\xfe bad bytes")
    args = ["classify", str(feed), str(folder), "--chunk-size", "3", "-q"]
    one = run(*args, check_code=1).stdout
    assert run(*args, "--jobs", "2", check_code=1).stdout == one
    ids = [json.loads(line)["id"] for line in one.splitlines()]
    files = [str(folder / "a.txt"), str(folder / "sub" / "b.txt")]
    assert ids == ["j0", "j1", f"{feed}:4", "j2", "j3", "j4", "j5", *files]


def test_parallel_strict_and_bad_model(tmp_path):
    src = tmp_path / "in.jsonl"
    good = [json.dumps({"id": str(i), "text": "ضبط شحنة كبتاغون"}, ensure_ascii=False) for i in range(9)]
    src.write_text("\n".join(good[:5] + ["{oops"] + good[5:]) + "\n", encoding="utf-8")
    strict = run("classify", str(src), "--strict", "--jobs", "2", "--chunk-size", "2", check_code=1)
    assert [json.loads(line)["id"] for line in strict.stdout.splitlines()] == ["0", "1", "2", "3", "4"]
    lenient = run("classify", str(src), "--jobs", "2", "--chunk-size", "2", check_code=1)
    assert len(lenient.stdout.splitlines()) == 10
    bad = tmp_path / "bad.atm"
    bad.write_bytes(b"not a model")
    proc = run("classify", str(src), "--model", str(bad), "--jobs", "2", check_code=2)
    assert "Traceback" not in proc.stderr and "bad.atm" in proc.stderr


def test_max_chars_is_stated(tmp_path):
    src = tmp_path / "big.txt"
    src.write_text("ضبط شحنة مخدرات. " * 5000, encoding="utf-8")
    proc = run("classify", "--format", "jsonl", "--max-chars", "1000", str(src), check_code=0)
    assert json.loads(proc.stdout)["truncated"] is True


def test_directory_with_binary_and_bad_utf8(tmp_path):
    (tmp_path / "ok.txt").write_text("ضبط طائرة مسيرة", encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x00\x01")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe")
    proc = run("classify", "--format", "jsonl", str(tmp_path), check_code=1)
    records = {Path(r["id"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    assert "error" in records["bin.txt"] and "error" in records["bad.txt"] and "labels" in records["ok.txt"]
    assert "Traceback" not in proc.stderr


def test_broken_pipe_is_quiet(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": f"نص {i}"}) + "\n" for i in range(3000)), encoding="utf-8")
    proc = subprocess.run(
        f"{sys.executable} -m arabictopics classify {src} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_bad_model_file_is_exit_2(tmp_path):
    bad = tmp_path / "bad.atm"
    bad.write_bytes(b"not a model")
    proc = run("classify", "--model", str(bad), str(EXAMPLE), check_code=2)
    assert "arabictopics: error:" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_convert_command(small_model, tmp_path):
    from .test_persistence import _format_1

    old, new = tmp_path / "old.atm", tmp_path / "new.atm"
    _format_1(old, small_model)
    proc = run("classify", "--model", str(old), str(EXAMPLE), check_code=2)
    assert f"arabictopics convert {old} NEW.atm --trust-pickle" in proc.stderr and proc.stdout == ""
    proc = run("convert", str(old), str(new), check_code=2)
    assert "--trust-pickle" in proc.stderr and not new.exists()
    proc = run("convert", str(old), str(new), "--trust-pickle", check_code=0)
    assert "model format 2 (data only)" in proc.stderr and "Traceback" not in proc.stderr
    scored = json.loads(run("classify", "--model", str(new), str(EXAMPLE), check_code=0).stdout)
    assert scored["scores"] == pytest.approx(small_model.classify(EXAMPLE.read_text(encoding="utf-8")).scores)


def test_themes_info_and_usage():
    assert "border_security" in run("themes", check_code=0).stdout
    assert json.loads(run("themes", "--format", "json", check_code=0).stdout)[0]["label"] == "cybercrime"
    meta = json.loads(run("info", check_code=0).stdout)
    assert meta["library"] == "arabictopics" and len(meta["labels"]) == 12
    assert run("classify", "--jobs", "0", str(EXAMPLE)).returncode == 2


def test_train_evaluate_explain_stats(tmp_path, records):
    data = tmp_path / "train.jsonl"
    subset = [r for r in records if set(r["labels"]) & {"drugs", "drones"} or not r["labels"]][:150]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in subset), encoding="utf-8")
    model = tmp_path / "m.atm"
    proc = run("train", str(data), "-o", str(model), "--labels", "drugs,drones", "--cv", "3", "-q", check_code=0)
    assert "cross-validated" in proc.stdout and model.exists()
    assert proc.stderr == ""  # -q: no "training on ...", no "model written to ..."
    assert json.loads((tmp_path / "m.atm.report.json").read_text())["labels"]["drugs"]["support"] > 0
    run("evaluate", str(model), str(data), check_code=2)  # the data has themes the drugs+drones model does not know
    proc = run("evaluate", str(model), str(data), "--format", "json", "--ignore-unknown-labels", check_code=0)
    report = json.loads(proc.stdout)
    assert set(report["labels"]) == {"drugs", "drones"}
    assert report["found"]["n_documents"] == len(subset)  # the fixtures carry mentions: the second level is scored
    assert "found (labels + mentions" in run("evaluate", str(model), str(data), "--ignore-unknown-labels").stdout
    proc = run("explain", "--model", str(model), "--format", "json", str(EXAMPLE), check_code=0)
    themes = json.loads(proc.stdout)[0]["themes"]
    assert themes and all(t["terms"] for t in themes)
    assert {t["level"] for t in themes} <= {"about", "named"}
    assert all(s in EXAMPLE.read_text(encoding="utf-8") for t in themes for s in t["sentences"])
    stats = json.loads(run("stats", str(data), check_code=1).stdout)  # one civil_protection article: untrainable
    assert stats["articles"] == len(subset)
    assert any("civil_protection (1)" in problem for problem in stats["problems"])


def test_train_refuses_bad_data_without_writing(tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "نص", "labels": ["drugs"]}\n{"labels": ["drugs"]}\n', encoding="utf-8")
    model = tmp_path / "m.atm"
    assert main(["train", str(data), "-o", str(model)]) == 2
    assert not model.exists()


def test_parser_in_process(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert "arabictopics" in capsys.readouterr().out
    assert main(["info", "/nonexistent.atm"]) == 2
    assert "does not exist" in capsys.readouterr().err


# ---- what a person reads at a terminal ---------------------------------------------------------------


def _screen(raw: str) -> list[str]:
    """The lines a terminal shows for ``raw``: each carriage return starts the line over, and what is
    written then overwrites it, as a terminal does (the progress bar redraws itself this way)."""
    lines = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        shown = ""
        for segment in line.split("\r"):
            segment = segment.replace("\x1b[A", "")  # tqdm's cursor-up after a clear
            shown = segment + shown[len(segment) :]
        lines.append(shown.rstrip())
    return lines


def _run_in_terminal(*args, columns=80):
    """Run the CLI with stdout and stderr on one pseudo-terminal, as in a shell."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "TERM": "xterm"}
    env.pop("CI", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "arabictopics", *args],
        stdin=subprocess.DEVNULL,
        stdout=child_fd,
        stderr=child_fd,
        env=env,
    )
    os.close(child_fd)
    out = b""
    while True:
        ready, _, _ = select.select([main_fd], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(main_fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        out += data
    os.close(main_fd)
    assert proc.wait(timeout=60) == 0, out.decode("utf-8", "replace")
    return out.decode("utf-8")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal test")
def test_terminal_table_fits_clears_the_bar_and_shows_thresholds(tmp_path):
    from arabictopics.io import display_width

    # Before: the header came after the bar on its line ("... ? articles/s]id   themes"), ids were padded
    # by characters (harakat shifted the columns), a 40-column id column overflowed 80 columns mid-word,
    # and an Arabic title was cut at its start.
    article = EXAMPLE.read_text(encoding="utf-8")
    title = "وزراء داخلية دول الجوار يبحثون مكافحة تهريب المخدرات والطائرات المسيّرة عبر الحدود"
    rows = [
        {"id": title, "text": article},
        {"id": "مُسيَّرة-١", "text": "ضبطت الشرطة شحنة كبتاغون في الميناء بعد تحقيق طويل"},
        {"id": "feeds/archive/2026/12/06/a-very-long-file-name-000123.html", "text": "انتهت المباراة بالتعادل"},
    ]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    screen = _screen(_run_in_terminal("classify", str(feed), columns=80))
    header = next(i for i, line in enumerate(screen) if "themes (score ≥ threshold)" in line)
    assert screen[header].startswith("id ")
    end = next(i for i in range(header + 1, len(screen)) if screen[i].startswith("classify:"))
    table = screen[header:end]
    assert all(display_width(line) <= 80 for line in table), table
    starts = [line for line in table[1:] if line and not line.startswith(" ")]
    assert len(starts) == 3, table
    import re

    columns = {display_width(line[: re.search(r"\S\s{2,}(\S)", line).start(1)]) for line in starts}
    assert len(columns) == 1, table  # the themes column starts at one display column in every row
    assert starts[0].startswith(title[:15]) and "…" in starts[0]  # an Arabic title keeps its beginning
    assert starts[2].endswith("000123.html  -")  # a path keeps its end
    import arabictopics

    model = arabictopics.load_model()
    cut = dict(zip(model.classes_, model.thresholds_))
    for line, result in zip((table[1], starts[1]), model.classify_many([rows[0]["text"], rows[1]["text"]])):
        best = result.labels[0]  # each row starts with its best theme, its score and the threshold it cleared
        assert f"{best} {result.scores[best]:.2f} ≥ {cut[best]:.2f}" in line
    assert "100%" in screen[end] and "3 articles" in screen[end]  # a bar in bytes of input: a percentage


def test_top_threshold_and_keep(tmp_path):
    article = EXAMPLE.read_text(encoding="utf-8")
    rows = [
        {"id": "a", "text": article, "title": "عنوان", "url": "https://example.org/a", "meta": ["x"]},
        {"id": "b", "text": "انتهت المباراة بالتعادل", "title": "رياضة", "meta": {"n": 1}},
    ]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    plain = [json.loads(line) for line in run("classify", str(feed), check_code=0).stdout.splitlines()]
    assert len(plain[0]["labels"]) >= 3
    # --top K: the K highest labels; --threshold: one cut for every theme
    top = [json.loads(line) for line in run("classify", str(feed), "--top", "2", check_code=0).stdout.splitlines()]
    assert top[0]["labels"] == plain[0]["labels"][:2] and set(top[0]["evidence"]) == set(top[0]["labels"])
    low = json.loads(run("classify", str(feed), "--threshold", "0", check_code=0).stdout.splitlines()[1])
    assert len(low["labels"]) == 12 and low["mentions"] == {}
    high = json.loads(run("classify", str(feed), "--threshold", "0.999999", check_code=0).stdout.splitlines()[0])
    assert all(high["scores"][label] >= 0.999999 for label in high["labels"]) and len(high["labels"]) < 12
    # --keep: input fields after the id; absent in a later record: null; JSON values kept as they are
    kept = [json.loads(line) for line in run("classify", str(feed), "--keep", "title,url,meta").stdout.splitlines()]
    assert list(kept[0])[:4] == ["id", "title", "url", "meta"]
    assert kept[0]["url"] == "https://example.org/a" and kept[1]["url"] is None and kept[1]["meta"] == {"n": 1}
    proc = run("classify", str(feed), "--keep", "title,meta", "--format", "csv", check_code=0)
    import csv
    import io

    header, first, second = csv.reader(io.StringIO(proc.stdout))
    assert header[:4] == ["id", "title", "meta", "labels"] and second[1:3] == ["رياضة", '{"n": 1}']
    # what cannot be meant is refused before anything is written
    proc = run("classify", str(feed), "--keep", "date", check_code=2)
    assert "no 'date' field" in proc.stderr and proc.stdout == ""
    assert "would overwrite" in run("classify", str(feed), "--keep", "labels", check_code=2).stderr
    assert "from 0 to 1" in run("classify", str(feed), "--threshold", "1.5", check_code=2).stderr
    assert "--top" in run("classify", str(feed), "--top", "0", check_code=2).stderr


def test_info_summary_and_json():
    from arabictopics.cli import _model_summary
    from arabictopics.persistence import default_model_path, read_model_metadata

    # Before: ~300 lines of JSON with a bare thresholds list. Now a summary; JSON with --format json.
    proc = run("info", "--format", "table", check_code=0)
    lines = proc.stdout.splitlines()
    assert len(lines) < 30
    shipped = read_model_metadata()
    thresholds = dict(zip(shipped["labels"], shipped["thresholds"]))
    assert any(line.split()[:2] == ["drones", f"{thresholds['drones']:.2f}"] for line in lines)
    assert "fixture CV (5-fold, out-of-fold" in proc.stdout and "real news" in proc.stdout
    assert f"{shipped['training_data']['articles']:,} articles" in proc.stdout
    meta = json.loads(run("info", "--format", "json", check_code=0).stdout)
    assert meta["thresholds"] and meta["cv_metrics"]["labels"]
    assert json.loads(run("info", check_code=0).stdout) == meta  # not a terminal: JSON, as scripts expect
    summary = _model_summary({"path": "m.atm", **read_model_metadata(default_model_path()), "cv_metrics": None}, False)
    assert "not recorded" in summary and "real news" not in summary


def test_a_typo_gets_the_commands_usage_and_the_closest_option():
    # Before: `classify --formt json` showed the top-level usage and no hint.
    proc = run("classify", "--formt", "json", str(EXAMPLE), check_code=2)
    assert "usage: arabictopics classify" in proc.stderr and "did you mean --format?" in proc.stderr
    proc = run("evaluate", "default", str(EXAMPLE), "--plt", "x.png", check_code=2)
    assert "usage: arabictopics evaluate" in proc.stderr and "did you mean --plot?" in proc.stderr
    assert "did you mean" not in run("classify", "--zzzzzz", str(EXAMPLE), check_code=2).stderr


def test_explain_help_says_what_it_reads(tmp_path):
    # Before: "an article file", though it reads JSONL, CSV and directories too.
    text = run("explain", "--help", check_code=0).stdout
    assert "JSONL" in text and "directory" in text
    feed = tmp_path / "two.jsonl"
    rows = [{"id": "x1", "text": EXAMPLE.read_text(encoding="utf-8")}, {"id": "x2", "text": "خبر عن المخدرات"}]
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = run("explain", str(feed), check_code=0).stdout
    assert "== x1" in out and "== x2" in out
