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
    assert "drugs 0.90" in buf.getvalue() and "يذكر أيضاً / also names: drones" in buf.getvalue()


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


# ---- the terminal table ------------------------------------------------------------------------------


def test_display_width_counts_columns_not_characters():
    assert atio.display_width("مُسيَّرة") == 5  # harakat and shadda take no column
    assert atio.display_width("新闻 ok") == 7 and atio.display_width("a\u200db") == 2
    assert atio._clip("وزراء الداخلية العرب يجتمعون في تونس", 12).startswith("وزراء")  # a title keeps its start
    assert atio._clip("feeds/2026/12/06/article-1.html", 12) == "…icle-1.html"  # a path keeps its end
    assert atio.display_width(atio._clip("مُسيَّرة" * 20, 10)) <= 10


words = st.text(alphabet=st.sampled_from("ab مُسيَّرة新-"), min_size=1, max_size=12).map(str.strip).filter(bool)


@given(st.lists(st.tuples(st.sampled_from([", ", "  ", ""]), words), min_size=1, max_size=12), st.integers(8, 60))
def test_wrap_fits_the_width_and_loses_nothing(pieces, width):
    lines = atio._wrap(pieces, width)
    for line in lines:  # a line is over the width only when it is one word longer than the width by itself
        assert atio.display_width(line) <= width or " " not in line.strip()
    squeeze = __import__("re").compile(r"[\s,]")
    assert squeeze.sub("", "".join(lines)) == squeeze.sub("", "".join(p for _, p in pieces))


def test_table_rows_wrap_between_themes_at_the_width():
    record = {
        "id": "مُسيَّرة-١",
        "labels": ["organized_crime", "border_security", "drugs", "drones"],
        "scores": {"organized_crime": 0.99, "border_security": 0.98, "drugs": 0.97, "drones": 0.61},
        "mentions": {"cybercrime": "…", "terrorism": "…"},
        "truncated": True,
    }
    labels = ["organized_crime", "border_security", "drugs", "drones", "cybercrime", "terrorism"]
    buf = __import__("io").StringIO()
    write_records([record], buf, "table", labels, thresholds=[0.45, 0.61, 0.42, 0.56, 0.3, 0.4], width=60)
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("id ") and "score ≥ threshold" in lines[0]
    assert all(atio.display_width(line) <= 60 for line in lines), lines
    body = " ".join(line.strip() for line in lines[1:])
    for shown in ("organized_crime 0.99 ≥ 0.45", "drones 0.61 ≥ 0.56", "also names: cybercrime", "[truncated]"):
        assert shown in body
    indent = atio.display_width(lines[1][: lines[1].index("organized_crime")])
    assert all(line.startswith(" " * indent) and line[indent] != " " for line in lines[2:])


def test_bytes_read_reaches_the_input_size(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("نص أول", encoding="utf-8")
    feed = tmp_path / "d" / "b.jsonl"
    feed.write_text("".join(json.dumps({"text": f"خبر {i}"}) + "\n" for i in range(50)), encoding="utf-8")
    csvfile = tmp_path / "c.csv"
    csvfile.write_text("id,text\n1,نص\n2,نص آخر\n", encoding="utf-8")
    sources = [str(tmp_path / "d"), str(csvfile)]
    read = atio.BytesRead()
    seen = []
    for _ in iter_documents(sources, bytes_read=read, defer=True):
        seen.append(read.n)
    assert len(seen) == 53 and seen == sorted(seen) and 0 < seen[10] < seen[-1]
    assert read.n == atio.input_size(sources) == sum(p.stat().st_size for p in tmp_path.rglob("*.*"))
    assert atio.input_size(["-"]) is None and atio.input_size([str(tmp_path / "missing.txt")]) is None


def test_keep_fields_from_jsonl_and_csv(tmp_path):
    feed = tmp_path / "f.jsonl"
    feed.write_text(
        json.dumps({"id": "1", "text": "نص", "title": "ع", "tags": ["a"]}) + "\n" + json.dumps({"text": "ن"}) + "\n",
        encoding="utf-8",
    )
    docs = list(iter_documents([str(feed)], keep=["title", "tags"]))
    assert docs[0].fields == {"title": "ع", "tags": ["a"]} and docs[1].fields == {"title": None, "tags": None}
    table = tmp_path / "t.csv"
    table.write_text("text,title\nنص,عنوان\nنص آخر\n", encoding="utf-8")
    assert [d.fields for d in iter_documents([str(table)], keep=["title"])] == [{"title": "عنوان"}, {"title": None}]
    with pytest.raises(atio.InputError, match="'url' to --keep"):
        list(iter_documents([str(table)], keep=["url"]))
    with pytest.raises(atio.InputError, match="no 'url' field"):
        list(iter_documents([str(feed)], keep=["url"]))
