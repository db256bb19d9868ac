"""arabictopics.model: estimator conventions, folds, thresholds, determinism."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimators_unfitted, check_get_params_invariance

from arabictopics import InputError, ThemeClassifier, TopicModel
from arabictopics.model import iterative_folds
from arabictopics.taxonomy import theme_keywords


def test_iterative_folds_cover_rare_labels():
    rng = np.random.default_rng(0)
    Y = (rng.random((200, 6)) < [0.4, 0.2, 0.1, 0.05, 0.03, 0.025]).astype(int)
    folds = iterative_folds(Y, 5, random_state=1)
    assert sorted(np.concatenate(folds).tolist()) == list(range(200))
    for j in range(6):
        if Y[:, j].sum() >= 5:
            assert all(Y[f, j].sum() >= 1 for f in folds), j
    sizes = [len(f) for f in folds]
    assert max(sizes) - min(sizes) <= 4
    again = iterative_folds(Y, 5, random_state=1)
    assert all((a == b).all() for a, b in zip(folds, again))


def test_theme_classifier_conventions():
    clf = ThemeClassifier(C=3.0, cv=3, random_state=0)
    assert clf.get_params()["C"] == 3.0
    assert clone(clf).get_params() == clf.get_params()
    check_get_params_invariance("ThemeClassifier", clf)
    check_estimators_unfitted("ThemeClassifier", clf)
    with pytest.raises(NotFittedError):
        clf.predict_proba(np.zeros((1, 3)))


def test_theme_classifier_learns_and_warns_on_constant_label():
    rng = np.random.default_rng(0)
    X = rng.random((60, 4))
    Y = np.c_[(X[:, 0] > 0.5).astype(int), np.zeros(60, dtype=int)]
    with pytest.warns(UserWarning, match="absent from all"):
        clf = ThemeClassifier(cv=3, random_state=0).fit(X, Y)
    assert clf.fit(X, Y) is clf
    proba = clf.predict_proba(X)
    assert proba.shape == (60, 2) and ((proba >= 0) & (proba <= 1)).all()
    assert (clf.predict(X)[:, 1] == 0).all()
    assert (clf.predict(X)[:, 0] == Y[:, 0]).mean() > 0.9
    assert clf.oof_proba_.shape == (60, 2)
    assert ((clf.thresholds_ >= 0.2) & (clf.thresholds_ <= 0.8)).all()


def test_theme_classifier_rejects_non_indicator():
    with pytest.raises(ValueError, match="indicator"):
        ThemeClassifier(cv=0).fit(np.eye(3), np.array([[2, 0], [0, 1], [1, 0]]))


def test_topic_model_any_label_set():
    texts = ["مباراة الهلال والنصر", "هدف رائع في المباراة", "ارتفاع اسعار النفط", "البورصة تغلق على ارتفاع"] * 3
    labels = [["sport"], ["sport"], ["markets"], ["markets"]] * 3
    model = TopicModel(classifier=ThemeClassifier(cv=0, random_state=0)).fit(texts, labels)
    assert model.classes_.tolist() == ["markets", "sport"]
    result = model.classify("مباراة كرة القدم")
    assert result.labels == ("sport",)
    assert set(result.scores) == {"markets", "sport"}


def test_topic_model_input_errors(small_model):
    with pytest.raises(InputError, match="string object received"):
        small_model.classify_many("نص")
    with pytest.raises(InputError, match="document 1 is NoneType"):
        small_model.classify_many(["نص", None])
    with pytest.raises(InputError, match="decode bytes"):
        small_model.classify_many([b"\xd9\x86"])
    with pytest.raises(NotFittedError):
        TopicModel().predict(["نص"])


@pytest.mark.parametrize("text", ["", "   \n\t", "hello world", "中文新闻", "123 456", "\x00\x01\x02"])
def test_documented_results_for_empty_and_non_arabic(small_model, text):
    result = small_model.classify(text)
    assert result.labels == () or all(label in small_model.classes_ for label in result.labels)
    assert all(0.0 <= s <= 1.0 for s in result.scores.values())


def test_truncation_is_reported(small_model):
    huge = "ضبط شحنة مخدرات " * 20000  # > 100,000 characters
    assert small_model.classify(huge).truncated
    assert not small_model.classify("ضبط شحنة مخدرات").truncated


def test_classify_many_matches_classify_and_pickles(small_model, records):
    texts = [r["text"] for r in records[:40]]
    batch = small_model.classify_many(texts)
    assert [small_model.classify(t) for t in texts[:5]] == batch[:5]
    clone_ = pickle.loads(pickle.dumps(small_model))
    assert clone_.classify_many(texts) == batch
    assert np.array_equal(small_model.predict(texts), (small_model.predict_proba(texts) >= small_model.thresholds_))


def test_thread_safety(small_model, records):
    texts = [r["text"] for r in records[:64]]
    expected = small_model.classify_many(texts)
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(small_model.classify, texts))
    assert got == expected


def test_deterministic_fit(records):
    subset = records[::5]
    texts, labels = [r["text"] for r in subset], [r["labels"] for r in subset]
    a = TopicModel(random_state=3).fit(texts, labels)
    b = TopicModel(random_state=3).fit(texts, labels)
    assert np.array_equal(a.predict_proba(texts), b.predict_proba(texts))
    assert np.array_equal(a.thresholds_, b.thresholds_)


def test_explain(small_model, records):
    article = next(r["text"] for r in records if "drugs" in r["labels"])
    explanation = small_model.explain(article, theme="drugs")
    [theme] = explanation.themes
    assert theme.theme == "drugs" and theme.terms and theme.sentences
    words = [word for word, _ in theme.terms if not word.startswith("key phrases: ")]
    assert words and all(word in article for word in words)  # surface forms, as written
    pooled = [word for word, _ in theme.terms if word.startswith("key phrases: ")]
    keywords = set(theme_keywords()["drugs"])
    assert all(set(word.removeprefix("key phrases: ").split("، ")) <= keywords for word in pooled)
    assert "drugs" in explanation.format()
    with pytest.raises(ValueError, match="unknown theme"):
        small_model.explain(article, theme="nope")


def test_threshold_and_top_override_the_tuned_cut(small_model, records):
    texts = [r["text"] for r in records[:40]]
    tuned = small_model.classify_many(texts)
    proba = small_model.predict_proba(texts)
    labels = [str(c) for c in small_model.classes_]
    for cut in (0.0, 0.3, 0.9):
        for result, row in zip(small_model.classify_many(texts, threshold=cut), proba):
            assert set(result.labels) == {label for label, p in zip(labels, row) if p >= cut}
            assert not set(result.mentions) & set(result.labels) and set(result.evidence) == set(result.labels)
    for result, full in zip(small_model.classify_many(texts, top=1), tuned):
        assert result.labels == full.labels[:1] and result.mentions == full.mentions
    best_two = small_model.classify(texts[0], threshold=0.0, top=2).labels
    scores = tuned[0].scores
    assert len(best_two) == 2 and min(scores[b] for b in best_two) >= max(
        scores[label] for label in labels if label not in best_two
    )
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="threshold"):
            small_model.classify_many(texts[:1], threshold=bad)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="top"):
            small_model.classify_many(texts[:1], top=bad)
