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
