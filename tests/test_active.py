"""arabictopics.active: ranking unlabeled articles for labeling, and ``arabictopics suggest``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from arabictopics import InputError, Suggestion, TopicModel, load_labeled, save_model, suggest
from arabictopics.active import _disagreement, _Pool, _uncertainty, committee_size

from .conftest import fit_on_a_third


@pytest.fixture(scope="module")
def committee_model(records):
    """Trained on a third of the fixtures with 3-fold CV: keeps 3 fold models."""
    return fit_on_a_third(records, cv=3)


@pytest.fixture(scope="module")
def pool_records(records):
    """The fixtures the committee model was not trained on."""
    return [r for i, r in enumerate(records) if i % 3]


def test_uncertainty_peaks_at_the_threshold():
    t = np.array([0.3, 0.6])
    u = _uncertainty(np.array([[0.3, 0.6], [0.0, 1.0], [0.15, 0.8]]), t)
    np.testing.assert_allclose(u, [[1.0, 1.0], [0.0, 0.0], [0.5, 0.5]])


def test_disagreement_zero_when_unanimous_one_when_split():
    t = np.array([0.5])
    same = np.full((4, 1, 1), 0.9)
    split = np.array([0.0, 1.0, 0.0, 1.0]).reshape(4, 1, 1)
    d_same, votes_same = _disagreement(same, t)
    d_split, votes_split = _disagreement(split, t)
    assert d_same[0, 0] == pytest.approx(0.0) and votes_same[0, 0] == 4
    assert d_split[0, 0] == pytest.approx(1.0) and votes_split[0, 0] == 2


def test_committee_is_used_when_present(committee_model, small_model, pool_records):
    texts = [r["text"] for r in pool_records]
    ids = [r["id"] for r in pool_records]
    assert committee_size(committee_model) == 3 and committee_size(small_model) == 0
    picks = suggest(committee_model, texts, ids, n=15)
    assert len(picks) == 15 and all(isinstance(p, Suggestion) for p in picks)
    assert all(p.method == "uncertainty+committee" and "of 3 fold models" in p.reason for p in picks)
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)
    assert all(0.0 <= p.score <= 1.0 for p in picks)
    assert len({p.id for p in picks}) == 15 and {p.id for p in picks} <= set(ids)
    record = picks[0].to_dict()
    assert list(record) == ["id", "text", "labels", "suggested", "reason", "score"]
    assert record["labels"] == [] and record["text"] == texts[ids.index(record["id"])]
    assert set(record["suggested"]) <= {str(c) for c in committee_model.classes_}
    alone = suggest(committee_model, texts, ids, n=15, committee=False)
    assert all(p.method == "uncertainty" and "fold models" not in p.reason for p in alone)
    plain = suggest(small_model, texts, n=5)
    assert all(p.method == "uncertainty" for p in plain)
    with pytest.raises(ValueError, match="no fold models"):
        suggest(small_model, texts, n=5, committee=True)


def test_suggested_themes_are_the_models_predictions(committee_model, pool_records):
    texts = [r["text"] for r in pool_records[:40]]
    by_id = {p.id: p for p in suggest(committee_model, texts, n=40, max_similarity=1.0)}
    results = committee_model.classify_many(texts)
    for i, result in enumerate(results):
        if str(i) in by_id:
            assert by_id[str(i)].suggested == result.labels


def test_chunking_does_not_change_the_ranking(committee_model, pool_records):
    texts = [r["text"] for r in pool_records]
    whole = suggest(committee_model, texts, n=20, chunk_size=10_000)
    small = suggest(committee_model, iter(texts), n=20, chunk_size=7)
    assert [(p.id, p.score) for p in whole] == [(p.id, p.score) for p in small]


def test_near_duplicates_are_suggested_once(committee_model, pool_records):
    texts = [r["text"] for r in pool_records[:30]]
    doubled = texts + [t + "\n" for t in texts]  # same words: cosine 1
    picks = suggest(committee_model, doubled, n=60)
    chosen = {int(p.id) for p in picks}
    assert all(i < 30 for i in chosen), "the earlier copy wins a tie"
    assert len(picks) == len({i % 30 for i in chosen}) <= 30
    everything = suggest(committee_model, doubled, n=60, max_similarity=1.0)
    assert len(everything) == 60


def test_pool_keeps_n_best_and_matches_greedy_selection():
    """Streamed through a bounded pool, the result equals the greedy choice
    over the whole input: best first, skipping near-duplicates of those kept."""
    rng = np.random.default_rng(0)
    m, groups, n = 400, 60, 25
    group = rng.integers(0, groups, m)  # rows of one group are copies (cosine 1), others orthogonal
    vectors = sp.csr_matrix((np.ones(m), (np.arange(m), group)), shape=(m, groups))
    scores = rng.random(m).round(2)  # ties happen: the earlier row wins
    pool = _Pool(n, 0.9)
    for start in range(0, m, 32):
        rows = range(start, min(start + 32, m))
        pool.offer_chunk(
            [(float(scores[i]), -i) for i in rows],
            vectors[start : start + len(rows)],
            lambda k, start=start: start + k,
        )
        assert len(pool.entries) <= n
    got = pool.ranked()
    expected, taken = [], set()
    for i in sorted(range(m), key=lambda i: (-scores[i], i)):
        if group[i] not in taken:
            taken.add(group[i])
            expected.append(i)
    assert got == expected[:n]


def test_texts_without_known_words_are_skipped(committee_model):
    picks = suggest(committee_model, ["", "   ", "xyzzy qwerty", "ضبط شحنة كبتاغون في الميناء"], n=10)
    assert [p.id for p in picks] == ["3"]


def test_bad_arguments(committee_model):
    with pytest.raises(InputError, match="single string"):
        suggest(committee_model, "ضبط شحنة كبتاغون")
    with pytest.raises(InputError, match="document 1 is bytes"):
        suggest(committee_model, ["نص", b"bytes"])
    with pytest.raises(InputError, match="fewer ids"):
        suggest(committee_model, ["نص", "آخر"], ids=["a"])
    with pytest.raises(InputError, match="more ids"):
        suggest(committee_model, ["نص"], ids=["a", "b"])
    with pytest.raises(ValueError, match="n must be"):
        suggest(committee_model, ["نص"], n=0)
    with pytest.raises(Exception, match="not fitted"):
        suggest(TopicModel(), ["نص"])


@pytest.mark.slow
def test_cli_suggest(committee_model, default_model, pool_records, tmp_path):
    model_path = tmp_path / "committee.atm"
    save_model(committee_model, model_path)
    src = tmp_path / "unlabeled.jsonl"
    lines = [json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) for r in pool_records[:60]]
    lines.insert(5, "{not json")
    lines.append(json.dumps({"id": "copy", "text": pool_records[0]["text"]}, ensure_ascii=False))
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "to_label.jsonl"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    args = [sys.executable, "-m", "arabictopics", "suggest", str(model_path), str(src), "-n", "12", "--chunk-size", "9"]
    proc = subprocess.run(
        [*args, "-o", str(out)], capture_output=True, text=True, encoding="utf-8", env=env, timeout=300
    )
    assert proc.returncode == 1, proc.stderr  # one unreadable line, reported and skipped
    assert "disagreement of 3 fold models" in proc.stderr
    assert "1 record(s) could not be read" in proc.stderr and "not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 12
    assert all(set(r) == {"id", "text", "labels", "suggested", "reason", "score"} for r in records)
    assert not {pool_records[0]["id"], "copy"} <= {r["id"] for r in records}
    labeled = load_labeled(out)  # ready to label: the file loads as labeled data
    assert len(labeled) == 12 and all(row == [] for row in labeled.labels)
    expected = suggest(
        committee_model,
        [r["text"] for r in pool_records[:60]] + [pool_records[0]["text"]],
        [r["id"] for r in pool_records[:60]] + ["copy"],
        n=12,
    )
    assert [r["id"] for r in records] == [p.id for p in expected]

    shipped = subprocess.run(
        [sys.executable, "-m", "arabictopics", "suggest", "default", str(src), "-n", "3"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
    )
    assert shipped.returncode == 1 and len(shipped.stdout.splitlines()) == 3
    assert "arabictopics: ranking by uncertainty" in shipped.stderr
    assert ("threshold only" in shipped.stderr) == (committee_size(default_model) == 0)
