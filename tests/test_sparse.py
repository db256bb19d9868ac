"""arabictopics._sparse, and the product the passage layer takes from counts: against SciPy and dense arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from arabictopics._sparse import Rows, count_ranges, hstack
from arabictopics.features import ArabicTfidfVectorizer


@st.composite
def sequences_and_ranges(draw):
    n_cols = draw(st.integers(1, 8))
    ids = np.array(draw(st.lists(st.integers(0, n_cols - 1), max_size=40)), dtype=np.int64)
    ranges = draw(st.lists(st.tuples(st.integers(0, len(ids)), st.integers(0, len(ids))), max_size=12))
    starts = np.array([min(a, b) for a, b in ranges], dtype=np.int64)
    stops = np.array([max(a, b) for a, b in ranges], dtype=np.int64)
    return ids, starts, stops, n_cols


def _dense_counts(ids, starts, stops, n_cols):
    out = np.zeros((len(starts), n_cols))
    for r, (a, b) in enumerate(zip(starts, stops)):
        np.add.at(out[r], ids[a:b], 1.0)
    return out


def _dense(X: Rows) -> np.ndarray:
    return X.to_scipy().toarray()


@settings(max_examples=200, deadline=None)
@given(sequences_and_ranges())
def test_count_ranges_counts_every_range(case):
    ids, starts, stops, n_cols = case
    X = count_ranges(ids, starts, stops, n_cols)
    assert X.shape == (len(starts), n_cols)
    assert np.array_equal(_dense(X), _dense_counts(ids, starts, stops, n_cols))
    for r in range(X.shape[0]):  # sorted, distinct columns, nothing stored as zero
        row = X.indices[X.indptr[r] : X.indptr[r + 1]]
        assert np.all(np.diff(row) > 0)
    assert np.all(X.data > 0)


@settings(max_examples=100, deadline=None)
@given(sequences_and_ranges(), sequences_and_ranges(), st.data())
def test_slicing_stacking_and_products_match_scipy(a, b, data):
    A = count_ranges(*a)
    start = data.draw(st.integers(0, A.shape[0]))
    stop = data.draw(st.integers(start, A.shape[0]))
    assert np.array_equal(_dense(A.rows(start, stop)), _dense(A)[start:stop])
    assert np.array_equal(_dense(Rows.empty(2, a[3])), np.zeros((2, a[3])))
    C = count_ranges(b[0] % 3, np.minimum(a[1], len(b[0])), np.minimum(a[2], len(b[0])), 3)  # as high as A
    assert np.array_equal(_dense(hstack(A, C)), np.hstack([_dense(A), _dense(C)]))
    W = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=a[3] * 2, max_size=a[3] * 2))).reshape(a[3], 2)
    assert np.allclose(A @ W, _dense(A) @ W) and np.allclose(A @ W[:, 0], _dense(A) @ W[:, 0])
    assert Rows.from_matrix(sp.csr_matrix(_dense(A))).to_scipy().toarray().tolist() == _dense(A).tolist()


def test_matmul_refuses_a_wrong_shape():
    with pytest.raises(ValueError, match="columns"):
        count_ranges(np.array([0, 1]), np.array([0]), np.array([2]), 2) @ np.ones((3, 1))


@pytest.mark.parametrize("norm", ["l2", "l1", None])
@pytest.mark.parametrize("tf", ["sublinear", "binary", "plain"])
@pytest.mark.parametrize("use_idf", [True, False])
def test_scores_from_counts_equal_the_product_of_weighed_rows(norm, tf, use_idf):
    """What the passage layer computes from counts and per-word sums is the
    product of the weighed rows, for every weighing the vectorizer offers."""
    rng = np.random.default_rng(7)
    n_terms, n_out = 30, 4
    vectorizer = ArabicTfidfVectorizer(
        analyzer=str.split, norm=norm, use_idf=use_idf, sublinear_tf=tf == "sublinear", binary=tf == "binary"
    )
    vectorizer.vocabulary_ = {f"w{i}": i for i in range(n_terms)}
    vectorizer.idf_ = rng.uniform(1.0, 4.0, n_terms)
    ids = rng.integers(0, n_terms, 400)
    ids[100:160] = 3  # a word repeated many times
    starts = np.sort(rng.integers(0, 400, 50))
    stops = np.minimum(starts + rng.integers(0, 60, 50), 400)
    stops[:3] = starts[:3]  # empty rows
    counts = count_ranges(ids, starts, stops, n_terms)
    weights = rng.normal(size=(n_terms, n_out))
    token_weights = vectorizer._token_weights(weights)
    token_sums = np.stack([token_weights[:, ids[a:b]].sum(axis=1) for a, b in zip(starts, stops)], axis=1)
    got = vectorizer._scores(counts, token_sums, token_weights)
    expected = vectorizer._weigh(counts.copy()) @ weights
    assert np.allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert np.array_equal(counts.data, count_ranges(ids, starts, stops, n_terms).data)  # counts left as they were


def test_from_matrix_sums_duplicates_without_changing_the_given_matrix():
    X = sp.csr_matrix((np.array([1.0, 2.0, 3.0]), np.array([2, 0, 2]), np.array([0, 3])), shape=(1, 3))
    rows = Rows.from_matrix(X)
    assert rows.indices.tolist() == [0, 2] and rows.data.tolist() == [2.0, 4.0]
    assert X.indices.tolist() == [2, 0, 2]  # left as given
