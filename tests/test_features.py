from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from arabictopics.features import (
    ArabicPreprocessor,
    ArabicTfidfVectorizer,
    KeyphraseCounter,
    ThemeFeatures,
    make_vectorizer,
)


@pytest.fixture(scope="module")
def docs(records):
    cleaned = ArabicPreprocessor().transform([r["text"] for r in records])
    return cleaned[::2], cleaned[1::2]


def _bigrams(doc: str) -> list[str]:
    from arabictopics.text import analyze

    tokens = analyze(doc)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sublinear_tf": False},
        {"norm": "l1"},
        {"norm": None},
        {"min_df": 1, "max_df": 1.0},
        {"min_df": 0.01, "max_df": 40},
        {"smooth_idf": False},
        {"use_idf": False},
        {"binary": True},
        {"max_features": 500},
        {"analyzer": _bigrams},
    ],
)
def test_same_vocabulary_idf_and_matrix_as_scikit_learn(docs, params):
    from arabictopics.text import analyze

    train, test = docs
    vec = make_vectorizer(keyphrases=False, **params).fit(train)
    reference = TfidfVectorizer(**{**vec.get_params(), "analyzer": vec.analyzer}).fit(train)
    if "max_features" not in params:  # ties at the cut may be broken differently
        assert vec.vocabulary_ == reference.vocabulary_
        assert not vec.use_idf or np.allclose(vec.idf_, reference.idf_, rtol=0, atol=1e-12)
    else:
        assert len(vec.vocabulary_) == 500
    texts = test + ["", "zzqx qqzx"]
    ours = vec.transform(texts)
    theirs = TfidfVectorizer(**{**vec.get_params(), "vocabulary": vec.vocabulary_}).fit(train).transform(texts)
    assert ours.shape == theirs.shape and abs(ours - theirs).max() < 1e-12
    assert ours[-1].nnz == 0 and ours[-2].nnz == 0
    assert vec.analyzer is params.get("analyzer", analyze)


def test_fixed_vocabulary_and_parameter_errors(docs):
    train, _ = docs
    vec = ArabicTfidfVectorizer(vocabulary=["مخدر", "شحن", "ضبط"]).fit(train)
    assert vec.get_feature_names_out().tolist() == ["مخدر", "شحن", "ضبط"]
    reference = TfidfVectorizer(analyzer=vec.analyzer, vocabulary=["مخدر", "شحن", "ضبط"]).fit(train)
    assert np.allclose(vec.idf_, reference.idf_)
    with pytest.raises(ValueError, match="sklearn's TfidfVectorizer"):
        ArabicTfidfVectorizer(analyzer="char_wb").fit(train)
    with pytest.raises(ValueError, match="no terms remain"):
        ArabicTfidfVectorizer(min_df=len(train), max_df=len(train)).fit(train)
    with pytest.raises(ValueError, match="max_df corresponds to < documents than min_df"):
        ArabicTfidfVectorizer(min_df=5, max_df=2).fit(train)
    with pytest.raises(ValueError, match="empty vocabulary"):
        ArabicTfidfVectorizer().fit(["", "   "])
    for bad in ({"norm": "l3"}, {"min_df": -1}, {"max_df": 1.5}, {"max_features": 0}):
        with pytest.raises(ValueError):
            ArabicTfidfVectorizer(**bad).fit(train)


def test_cache_follows_refit_and_is_not_pickled(docs):
    train, test = docs
    vec = make_vectorizer(keyphrases=False).fit(train)
    first = vec.transform(test[:30])
    assert vec._words  # filled by transform
    clone = pickle.loads(pickle.dumps(vec))
    assert not hasattr(clone, "_words")
    assert abs(clone.transform(test[:30]) - first).max() == 0
    vec.fit(test)  # new vocabulary: the old word ids must not be reused
    reference = TfidfVectorizer(**{**vec.get_params(), "analyzer": vec.analyzer}).fit(test)
    assert abs(vec.transform(train[:30]) - reference.transform(train[:30])).max() < 1e-12


def test_bare_string_is_refused(docs):
    for vec in (make_vectorizer(keyphrases=False), make_vectorizer(), KeyphraseCounter()):
        vec.fit(docs[0])
        with pytest.raises(ValueError, match="string object received"):
            vec.transform("نص واحد")
        assert vec.transform(iter(docs[1][:3])).shape[0] == 3


def _naive_keyphrase_counts(counter: KeyphraseCounter, docs: list[str]) -> np.ndarray:
    """Token-by-token reference: every phrase at every position."""
    from arabictopics.text import analyze, clean

    lexicon = counter.lexicon
    out = np.zeros((len(docs), len(lexicon)))
    for i, doc in enumerate(docs):
        tokens = analyze(doc)
        for j, name in enumerate(lexicon):
            for phrase in {tuple(analyze(clean(p))) for p in lexicon[name]}:
                n = len(phrase)
                out[i, j] += sum(tuple(tokens[k : k + n]) == phrase for k in range(len(tokens) - n + 1))
    return counter.weight * np.log1p(out)


def test_keyphrases_match_token_sequences():
    lexicon = {"a": ["الجريمة المنظمة", "غسل الأموال"], "b": ["طائرة مسيرة", "طائرة من دون طيار", "الدرون"]}
    docs = [
        "مكافحة الجريمة المنظمة وغسل الأموال والجريمة المنظمة",
        "اسقاط طائرة من دون طيار ثم طائرات مسيرة",
        "مسيرة احتجاجية ضد الجريمة",  # «مسيرة» alone and «الجريمة» alone match nothing
        "",
        "طائرة",  # a phrase cut by the end of a document does not run into the next one
        "مسيرة",
    ]
    counter = KeyphraseCounter(lexicon, weight=1.0).fit([])
    got = counter.transform(docs).toarray()
    assert np.allclose(got, _naive_keyphrase_counts(counter, docs))
    # «وغسل» keeps its و (the light stemmer strips و only before ال), so two hits, not three
    assert got[0, 0] == pytest.approx(np.log1p(2)) and got[1, 1] == pytest.approx(np.log1p(2))
    assert not got[2:].any()


def test_keyphrases_equal_naive_on_fixtures(docs):
    counter = KeyphraseCounter(weight=1.0)
    counter.fit([])
    from arabictopics.taxonomy import theme_keywords

    counter.lexicon = theme_keywords()
    sample = docs[1][:60]
    assert np.allclose(counter.transform(sample).toarray(), _naive_keyphrase_counts(counter, sample))


def test_theme_features_equal_the_union_of_parts(docs):
    train, test = docs
    features = make_vectorizer().fit(train)
    assert isinstance(features, ThemeFeatures)
    joint = features.transform(test + [""])
    parts = sp.hstack([features.tfidf_.transform(test + [""]), features.keyphrases_.transform(test + [""])])
    assert joint.shape == parts.shape and abs(joint - parts).max() < 1e-12
    names = features.get_feature_names_out()
    assert len(names) == joint.shape[1] and names[-1] == "keyphrases:training"
    again = pickle.loads(pickle.dumps(features))
    assert not hasattr(again, "_words") and abs(again.transform(test) - joint[:-1]).max() == 0
