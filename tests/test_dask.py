"""The Dask adapter on a 2-worker LocalCluster gives exactly classify_many's results."""

from __future__ import annotations

import pytest

pytest.importorskip("dask.distributed")


def test_bag_and_dataframe_match_classify_many(default_model, records):
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd
    from dask.distributed import Client, LocalCluster

    from arabictopics.dask_adapter import classify_bag, classify_dataframe

    texts = [r["text"] for r in records[:120]]
    expected = [r.to_dict() for r in default_model.classify_many(texts)]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            got = classify_bag(db.from_sequence(texts, npartitions=6), client=client).compute()
            assert got == expected
            # JSONL-like records: ids carried through; a record without an id gets none.
            rows = [{"key": f"r{i}", "body": t} for i, t in enumerate(texts[:30])] + [{"body": texts[30]}]
            bag = db.from_sequence(rows, npartitions=3)
            got = classify_bag(bag, client=client, text_key="body", id_key="key").compute()
            assert got == [{"id": f"r{i}", **e} for i, e in enumerate(expected[:30])] + [expected[30]]
            frame = dd.from_pandas(pd.DataFrame({"text": texts}), npartitions=4)
            out = classify_dataframe(frame, "text", client=client).compute()
    assert out["labels"].tolist() == ["|".join(e["labels"]) for e in expected]
    assert out["mentions"].tolist() == ["|".join(e["mentions"]) for e in expected]
    assert out["score_drugs"].tolist() == [e["scores"]["drugs"] for e in expected]
    assert out["evidence_drugs"].tolist() == [
        e["evidence"].get("drugs", e["mentions"].get("drugs", "")) for e in expected
    ]
    assert all("mentions" in e and "evidence" in e for e in got)


def test_paths_and_bad_records_on_a_cluster(default_model, records, tmp_path):
    # Before: a Path model raised AttributeError; one None text, a missing key or a NaN failed the whole compute().
    from pathlib import Path

    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd
    from dask.distributed import Client, LocalCluster

    from arabictopics import save_model
    from arabictopics.dask_adapter import classify_bag, classify_dataframe

    path = Path(tmp_path) / "m.atm"
    save_model(default_model, path)
    texts = [r["text"] for r in records[:6]]
    rows = [
        {"id": "a", "text": texts[0]},
        {"id": "b", "text": None},
        {"id": "c"},
        {"id": "d", "text": 5},
        {"id": "e", "text": texts[1]},
    ]
    expected = [r.to_dict() for r in default_model.classify_many([texts[0], texts[1]])]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            got = classify_bag(db.from_sequence(rows, npartitions=2), model=path, client=client).compute()
            frame = dd.from_pandas(pd.DataFrame({"text": [texts[0], None, float("nan"), texts[1]]}), npartitions=2)
            out = classify_dataframe(frame, "text", model=path, client=client).compute()
    assert got[0] == {"id": "a", **expected[0]} and got[4] == {"id": "e", **expected[1]}
    assert got[1] == {"id": "b", "error": "'text' is NoneType, not a string"}
    assert got[2] == {"id": "c", "error": "no 'text' field"}
    assert got[3] == {"id": "d", "error": "'text' is int, not a string"}
    assert out["labels"].tolist()[0] == "|".join(expected[0]["labels"])
    assert out["error"].tolist() == ["", "no 'text' value (missing)", "no 'text' value (missing)", ""]


def test_jsonl_part_files_concatenate_to_jsonl(default_model, records, tmp_path):
    # Before (the README's bag.map(json.dumps).to_textfiles): parts ended without "\n", so `cat part-*` ran the last
    # record of one part and the first of the next into one line.
    import json

    import dask.bag as db
    from dask.distributed import Client, LocalCluster

    from arabictopics.dask_adapter import classify_bag, to_jsonl

    rows = [{"id": str(i), "text": r["text"]} for i, r in enumerate(records[:40])]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            to_jsonl(classify_bag(db.from_sequence(rows, npartitions=4), client=client), str(tmp_path / "p-*.jsonl"))
    joined = "".join(p.read_text(encoding="utf-8") for p in sorted(tmp_path.glob("p-*.jsonl")))
    assert joined.endswith("\n") and [json.loads(line)["id"] for line in joined.splitlines()] == [r["id"] for r in rows]
