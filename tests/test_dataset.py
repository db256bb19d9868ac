"""Labeled-data loaders and validation."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arabictopics import DataError, load_labeled, train
from arabictopics.dataset import describe, near_duplicates, validate_labeled


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_csv_folder(tmp_path):
    j = _jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "نص اول", "labels": ["drugs"]}, {"text": "نص", "labels": []}])
    c = tmp_path / "b.csv"
    c.write_text("id,text,labels\n3,نص ثالث,drugs|terrorism\n4,نص رابع,\n", encoding="utf-8")
    folder = tmp_path / "f"
    (folder / "drones").mkdir(parents=True)
    (folder / "none").mkdir()
    (folder / "drones" / "x.txt").write_text("مسيرة", encoding="utf-8")
    (folder / "none" / "y.txt").write_text("مباراة", encoding="utf-8")
    data = load_labeled([j, c, folder])
    assert data.labels == [["drugs"], [], ["drugs", "terrorism"], [], ["drones"], []]
    assert data.ids[:3] == ["1", f"{j}:2", "3"]
    assert len(data.sha256) == 64 and data.n_bytes > 0


def test_mentions_are_read_where_given_and_unknown_elsewhere(tmp_path):
    j = _jsonl(
        tmp_path / "a.jsonl",
        [
            {"id": "1", "text": "نص اول", "labels": ["diplomacy"], "mentions": ["drugs", "drones"]},
            {"id": "2", "text": "نص", "labels": [], "mentions": []},
            {"id": "3", "text": "نص ثالث", "labels": ["drugs"]},
        ],
    )
    c = tmp_path / "b.csv"
    c.write_text("id,body,themes,named\n4,نص رابع,drugs,terrorism|training\n5,نص خامس,,\n", encoding="utf-8")
    data = load_labeled(j)
    assert data.mentions == [["drones", "drugs"], [], None]
    assert data.has_mentions()
    data = load_labeled(c, text_column="body", labels_column="themes", mentions_column="named")
    assert data.mentions == [["terrorism", "training"], []] and data.labels == [["drugs"], []]
    assert load_labeled(c, text_column="body", labels_column="themes").mentions == [None, None]
    data = load_labeled(j, keep_labels=["drugs", "diplomacy"])
    assert data.mentions == [["drugs"], [], None]
    stats = describe(load_labeled(j))
    assert stats["with_mentions"] == 2 and stats["per_mention"] == {"drones": 1, "drugs": 1}


def test_a_theme_in_both_levels_is_refused(tmp_path):
    j = _jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "نص", "labels": ["drugs"], "mentions": ["drugs"]}])
    with pytest.raises(DataError, match=r"a.jsonl:1: drugs in both labels and mentions"):
        load_labeled(j)
    j = _jsonl(tmp_path / "b.jsonl", [{"id": "1", "text": "نص", "labels": [], "mentions": "drugs, drones"}])
    with pytest.raises(DataError, match="holds a comma; separate mentions"):
        load_labeled(j)
    with pytest.raises(DataError, match="unknown label"):
        load_labeled(
            _jsonl(tmp_path / "c.jsonl", [{"text": "نص", "labels": [], "mentions": ["drogs"]}]), known_labels=["drugs"]
        )


def test_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"id": "1", "text": "نص", "labels": ["drugs"]}\n'
        "{not json\n"
        '{"id": "3", "text": "", "labels": []}\n'
        '{"id": "1", "text": "نص", "labels": "drugs"}\n'
        '{"id": "5", "text": "نص", "labels": ["nope"]}\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError) as info:
        load_labeled(path, known_labels=["drugs"])
    message = str(info.value)
    assert f"{path}:2: not valid JSON" in message
    assert f"{path}:3: missing or empty text" in message
    assert f"{path}:5: unknown label(s) nope" in message
    assert "duplicate id '1'" in message


def test_label_column_not_a_list(tmp_path):
    path = _jsonl(tmp_path / "x.jsonl", [{"text": "نص", "labels": 5}])
    with pytest.raises(DataError, match="labels must be a list"):
        load_labeled(path)


def test_comma_separated_labels_are_refused(tmp_path):
    # Any label set is allowed, so "drugs, drones" would otherwise become one new label.
    path = _jsonl(
        tmp_path / "x.jsonl", [{"text": "نص", "labels": "drugs, drones"}, {"text": "نص آخر", "labels": "a|b"}]
    )
    with pytest.raises(DataError, match=r"x.jsonl:1: label 'drugs, drones' holds a comma") as err:
        load_labeled(path)
    assert "x.jsonl:2" not in str(err.value)


def test_csv_missing_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("body,tags\nنص,drugs\n", encoding="utf-8")
    with pytest.raises(DataError, match="--text-column"):
        load_labeled(path)


def test_empty_data_and_unknown_format(tmp_path):
    empty = tmp_path / "e.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="no articles"):
        load_labeled(empty)
    other = tmp_path / "x.xml"
    other.write_text("<a/>", encoding="utf-8")
    with pytest.raises(DataError, match="unknown format"):
        load_labeled(other)


def test_too_few_examples_for_cv_writes_nothing(tmp_path):
    rows = [{"id": str(i), "text": f"نص رقم {i}", "labels": ["drugs"] if i < 2 else []} for i in range(10)]
    path = _jsonl(tmp_path / "d.jsonl", rows)
    out = tmp_path / "m.atm"
    with pytest.raises(DataError, match=r"drugs \(2\)"):
        train(path, cv=5, output=out)
    assert not out.exists()


def test_near_duplicates_and_validate(tmp_path):
    base = "ضبطت الشرطة في مدينة الرياض شحنة كبيرة من الحبوب المخدرة كانت مخبأة داخل شاحنة محملة بالخضار"
    rows = [
        {"id": "a", "text": base, "labels": []},
        {"id": "b", "text": base.replace("الرياض", "جدة"), "labels": []},
        {"id": "c", "text": base, "labels": []},
        {"id": "d", "text": "خبر مختلف كليا عن نتائج الدوري", "labels": []},
    ]
    data = load_labeled(_jsonl(tmp_path / "n.jsonl", rows))
    problems = validate_labeled(data)
    assert any("exact duplicate" in p for p in problems)
    assert any("near-duplicate" in p for p in problems)
    assert near_duplicates([base, "نص آخر لا علاقة له"]) == []
    stats = describe(data)
    assert stats["articles"] == 4 and stats["off_topic"] == 4


records = st.lists(
    st.fixed_dictionaries(
        {
            "text": st.text(min_size=1, max_size=40).filter(lambda s: s.strip()),
            "labels": st.lists(st.sampled_from(["drugs", "drones", "x_y"]), max_size=3),
        }
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records, st.booleans(), st.booleans())
def test_jsonl_round_trip_property(tmp_path, rows, bom, crlf):
    newline = "\r\n" if crlf else "\n"
    body = newline.join(json.dumps({"id": str(i), **r}, ensure_ascii=False) for i, r in enumerate(rows)) + newline
    path = tmp_path / "p.jsonl"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8") + newline.encode())
    data = load_labeled(path)
    assert data.texts == [r["text"] for r in rows]
    assert data.labels == [sorted(set(r["labels"])) for r in rows]
