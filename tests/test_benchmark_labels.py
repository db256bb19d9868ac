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
    "devset": (BENCHMARKS / "devset" / "labels.jsonl", FIELDS),
    "offtopic audit": (BENCHMARKS / "offtopic" / "audit.jsonl", FIELDS | {"agreed"}),
}
OPTIONAL = {"note"}
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
        assert len(rec.get("note", "")) <= LONGEST_NOTE, f"{where}: a note, not article text"
