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
