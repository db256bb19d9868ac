"""Input streams: one Document per record, in order, errors as records."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arabictopics import io as atio
from arabictopics.io import AtomicOutput, iter_documents, write_records


def test_jsonl_with_bad_lines(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b'{"id": "a", "text": "\xd9\x86\xd8\xb5"}\n'
        b"{broken\n"
        b"\n"
        b'{"text": 5}\n'
        b'["list"]\n'
        b'{"id": "e", "text": "\xff\xfe"}\n'
        b'{"text": "ok"}\n'
    )
    docs = list(iter_documents([str(path)]))
    assert [d.id for d in docs] == ["a", f"{path}:2", f"{path}:4", f"{path}:5", f"{path}:6", f"{path}:7"]
    assert docs[0].text == "نص" and docs[-1].text == "ok"
    assert "line 2: not valid JSON" in docs[1].error
    assert "'text' is a int" in docs[2].error
    assert "JSON object" in docs[3].error
    assert "not valid utf-8" in docs[4].error


def test_overlong_line_is_an_error_record(tmp_path, monkeypatch):
    monkeypatch.setattr(atio, "MAX_LINE_BYTES", 64)
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"text": "x" * 500}) + "\n" + json.dumps({"text": "نص"}) + "\n", encoding="utf-8")
    docs = list(iter_documents([str(path)]))
    assert "longer than 64 bytes" in docs[0].error
    assert docs[1].text == "نص"


def test_csv_and_tsv(tmp_path):
    c = tmp_path / "in.csv"
    c.write_text('\ufeffkey,body\n1,"نص, مع فاصلة"\n2,"سطر\nثاني"\n', encoding="utf-8")
    docs = list(iter_documents([str(c)], text_column="body", id_column="key"))
    assert [(d.id, d.text) for d in docs] == [("1", "نص, مع فاصلة"), ("2", "سطر\nثاني")]
    with pytest.raises(ValueError, match="--text-column"):
        list(iter_documents([str(c)]))


def test_directory_recursive_binary_and_invalid_utf8(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("نص اول", encoding="utf-8")
    (tmp_path / "sub" / "b.html").write_text("<p>نص</p>", encoding="utf-8")
    (tmp_path / "sub" / "c.txt").write_bytes(b"\x00\x01binary")
    (tmp_path / "sub" / "d.txt").write_bytes(b"\xff\xfe\xfa")
    (tmp_path / "sub" / "e.jpg").write_bytes(b"\xff")
    docs = list(iter_documents([str(tmp_path)]))
    assert [os.path.basename(d.id) for d in docs] == ["a.txt", "b.html", "c.txt", "d.txt"]
    assert "binary" in docs[2].error
    assert "--errors replace" in docs[3].error
    replaced = list(iter_documents([str(tmp_path / "sub" / "d.txt")], errors="replace"))
    assert replaced[0].text == "\ufffd" * 3


def test_symlink_loop_is_followed_once(tmp_path):
    (tmp_path / "a.txt").write_text("نص", encoding="utf-8")
    os.symlink(tmp_path, tmp_path / "loop")
    docs = list(iter_documents([str(tmp_path)]))
    assert len(docs) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("نص", encoding="utf-8")
    path.chmod(0)
    [doc] = iter_documents([str(path)])
    assert "permission denied" in doc.error


def test_missing_file_is_an_error_record(tmp_path):
    [doc] = iter_documents([str(tmp_path / "nope.txt")])
    assert "cannot read" in doc.error


def test_atomic_output(tmp_path):
    target = tmp_path / "out.jsonl"
    out = AtomicOutput(target)
    out.stream.write("x\n")
    assert not target.exists()
    out.commit()
    assert target.read_text() == "x\n"
    out = AtomicOutput(target)
    out.stream.write("partial\n")
    kept = out.abort()
    assert target.read_text() == "x\n" and kept.read_text() == "partial\n"


def test_write_records_formats():
    import io

    records = [{"id": "a", "labels": ["drugs"], "scores": {"drugs": 0.9, "drones": 0.1}}, {"id": "b", "error": "bad"}]
    for fmt in ("jsonl", "csv", "tsv", "table"):
        buf = io.StringIO()
        assert write_records(records, buf, fmt, ["drugs", "drones"]) == 2
        assert "bad" in buf.getvalue()


def test_every_format_carries_both_levels():
    import csv
    import io

    record = {
        "id": "a",
        "labels": ["drugs"],
        "scores": {"drugs": 0.9, "drones": 0.1},
        "mentions": {"drones": "واعتراض طائرة مسيّرة، قرب الحدود"},
        "evidence": {"drugs": "ضبط شحنة «كبتاغون»\tفي الميناء"},
    }
    buf = io.StringIO()
    write_records([record], buf, "jsonl", ["drugs", "drones"])
    assert json.loads(buf.getvalue()) == record
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        buf = io.StringIO()
        write_records([record], buf, fmt, ["drugs", "drones"])
        header, row = csv.reader(io.StringIO(buf.getvalue()), delimiter=delimiter)
        assert header == ["id", "labels", "mentions", "drugs", "drones", "evidence_drugs", "evidence_drones", "error"]
        assert row == [
            "a",
            "drugs",
            "drones",
            "0.9",
            "0.1",
            record["evidence"]["drugs"],
            record["mentions"]["drones"],
            "",
        ]
    buf = io.StringIO()
    write_records([record], buf, "table", ["drugs", "drones"])
    assert "drugs (0.90)" in buf.getvalue() and "يذكر أيضاً / also names: drones" in buf.getvalue()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=30), min_size=1, max_size=10), st.booleans(), st.booleans())
def test_jsonl_stream_round_trip(tmp_path, texts, bom, crlf):
    newline = b"\r\n" if crlf else b"\n"
    body = newline.join(json.dumps({"id": str(i), "text": t}).encode() for i, t in enumerate(texts)) + newline
    path = tmp_path / "p.jsonl"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body + newline)
    docs = list(iter_documents([str(path)]))
    assert [d.text for d in docs] == texts
    assert [d.id for d in docs] == [str(i) for i in range(len(texts))]
