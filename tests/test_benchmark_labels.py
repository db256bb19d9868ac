"""The label files the accuracy benchmarks join with ../shared/corpora at run time.

They hold ids and labels only: the corpora's text may not enter the
repository, so a record with anything that looks like article text fails.
"""

import json
from pathlib import Path

import pytest

from arabictopics.taxonomy import theme_labels

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
CORPORA = {"ant_v2.1_multisource.sample.jsonl", "ant_v1.1_jawharafm.sample.jsonl", "mowjaz_validation.multilabel.jsonl"}
FIELDS = {"corpus", "id", "section", "route", "labels"}
FILES = {
    "devset": (BENCHMARKS / "devset" / "labels.jsonl", FIELDS | {"mentions"}),
    "heldout": (BENCHMARKS / "heldout" / "labels.jsonl", FIELDS | {"mentions", "agreed"}),
    "offtopic audit": (BENCHMARKS / "offtopic" / "audit.jsonl", FIELDS | {"agreed"}),
}
OPTIONAL = {"note", "agreed"}
LONGEST_NOTE = 300


@pytest.mark.parametrize("name", sorted(FILES))
def test_label_file_holds_ids_and_known_labels_only(name):
    path, required = FILES[name]
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert records, f"{path} is empty"
    known = set(theme_labels())
    seen = set()
    for number, rec in enumerate(records, 1):
        where = f"{path.name} line {number}"
        assert required <= set(rec) <= required | OPTIONAL, f"{where}: fields {sorted(rec)}"
        assert rec["corpus"] in CORPORA, where
        assert (rec["corpus"], rec["id"]) not in seen, f"{where}: duplicate id"
        seen.add((rec["corpus"], rec["id"]))
        assert rec["labels"] == sorted(set(rec["labels"])) and set(rec["labels"]) <= known, where
        named = rec.get("mentions", [])
        assert named == sorted(set(named)) and set(named) <= known and not set(named) & set(rec["labels"]), where
        assert len(rec.get("note", "")) <= LONGEST_NOTE, f"{where}: a note, not article text"


def _pairs_and_final(name: str):
    pairs = [
        json.loads(line)
        for line in (BENCHMARKS / name / "labelers.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    final = {
        (r["corpus"], r["id"]): r
        for r in map(json.loads, (BENCHMARKS / name / "labels.jsonl").read_text(encoding="utf-8").splitlines())
    }
    assert len({(p["corpus"], p["id"]) for p in pairs}) == len(pairs)
    known = set(theme_labels())
    for p in pairs:
        rec = final[(p["corpus"], p["id"])]
        for side in (p["first"], p["second"]):
            assert set(side) == {"labels", "mentions"} and set(side["labels"]) | set(side["mentions"]) <= known
        agreed = p["first"] == p["second"]
        assert rec["agreed"] == agreed  # an adjudicated record says so, and took one of the two answers
        assert {"labels": rec["labels"], "mentions": rec["mentions"]} in (p["first"], p["second"])
    return pairs, final


def test_second_labels_cover_150_devset_articles_blind():
    pairs, final = _pairs_and_final("devset")
    assert len(pairs) >= 150
    assert sum(r["route"] == "round3:agenda" for r in final.values()) >= 60


def test_every_heldout_article_was_labeled_twice_and_none_is_in_the_devset_or_the_audit():
    pairs, final = _pairs_and_final("heldout")
    assert len(pairs) == len(final) >= 130
    drawn = (BENCHMARKS / "heldout" / "candidates.jsonl").read_text("utf-8")
    candidates = [json.loads(line) for line in drawn.splitlines()]
    assert [(c["corpus"], c["id"]) for c in candidates] == list(final)
    used = {
        (r["corpus"], r["id"])
        for path in (BENCHMARKS / "devset" / "labels.jsonl", BENCHMARKS / "offtopic" / "audit.jsonl")
        for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    }
    assert not used & set(final)
