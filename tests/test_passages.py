"""The passage layer: sentences over offsets, rows as sums of sentence rows,
the about / named / neither rule, and the evidence quoted as written."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from arabictopics import ThemeClassifier, TopicModel
from arabictopics.features import make_vectorizer
from arabictopics.passages import (
    SIGNALS,
    PassageLayer,
    _layout,
    clean_sentences,
    decide,
    passage_rows,
    segment,
    split_levels,
)
from arabictopics.text import MAX_SENTENCE_CHARS, MIN_CLAUSE_CHARS, article_spans, clean, sentence_spans

TAIL_STORY = "ضبطت شرطة مكافحة المخدرات شحنة كبتاغون ضخمة في المنفذ الحدودي وأوقفت ثلاثة مهربين."


# ---- sentences over offsets ---------------------------------------------------------


def test_sentences_are_quoted_as_written_and_skip_boilerplate():
    page = (
        "وزيرُ الداخلیة يستقبل نظيره العراقي\n"
        "بحث الجانبان التعاون الأمني. وأكدا أهمية تبادل الخبرات!\n"
        "شارك طباعة\n"
        "كلمات دلالية:\nالعراق\n"
        f"اقرأ أيضاً:\n{TAIL_STORY}"
    )
    sentences = [page[a:b] for a, b in sentence_spans(page)]
    assert sentences == [
        "وزيرُ الداخلیة يستقبل نظيره العراقي",  # diacritics and the Persian yeh kept: quoted as written
        "بحث الجانبان التعاون الأمني.",
        "وأكدا أهمية تبادل الخبرات!",
    ]


def test_run_on_sentence_is_cut_into_clauses():
    clause = "وأكد الوزير أهمية تعزيز التعاون الأمني بين البلدين في مجالات عديدة تشمل تبادل المعلومات والخبرات"
    sentence = "، ".join([clause] * 8) + "."
    assert len(sentence) > MAX_SENTENCE_CHARS
    pieces = [sentence[a:b] for a, b in sentence_spans(sentence)]
    assert len(pieces) > 1 and "".join(p.replace(" ", "") for p in pieces) == sentence.replace(" ", "")
    assert all(len(p) >= MIN_CLAUSE_CHARS for p in pieces)


@given(st.text(alphabet=st.sampled_from("ابت ثج.؟!،\n\tكلمات دلالية:اقرأ أيضاxyz"), max_size=600))
def test_sentence_spans_are_ordered_trimmed_and_inside_the_article(text):
    spans = sentence_spans(text)
    lines = article_spans(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip() and "\n" not in piece
        assert any(a <= start and end <= b for a, b in lines)
        previous_end = end


# ---- rows: sums of sentence rows ------------------------------------------------------


def test_windows_cover_consecutive_sentences():
    layout = _layout(np.array([5, 1, 0, 3]), window=3)
    assert layout.n_windows.tolist() == [3, 1, 1, 1]
    assert layout.sentence_start.tolist() == [0, 5, 6, 6]
    rows = [list(range(a, b)) for a, b in zip(layout.window_first, layout.window_stop)]
    assert rows == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [5], [], [6, 7, 8]]


def test_article_rows_equal_the_vectorizer_on_the_joined_article(records):
    texts = [r["text"] for r in records[:60]]
    vectorizer = make_vectorizer().fit([clean(t) for t in texts])
    passages = [segment(t) for t in texts]
    sentences = clean_sentences(None.__class__ and __import__("arabictopics").ArabicPreprocessor(), passages)
    n = np.array([len(p.spans) for p in passages])
    rows = passage_rows(vectorizer, sentences, n, window=3)
    joined, start = [], 0
    for k in n:
        joined.append(" ".join(sentences[start : start + k]))
        start += k
    assert abs(rows.articles.to_scipy() - vectorizer.transform(joined)).max() < 1e-9
    assert abs(rows.sentences.to_scipy() - vectorizer.transform(sentences)).max() < 1e-9
    layout = rows.layout
    windows = [" ".join(sentences[a:b]) for a, b in zip(layout.window_first, layout.window_stop)]
    assert abs(rows.windows.to_scipy() - vectorizer.transform(windows)).max() < 1e-9
    assert rows.phrases.shape[0] == len(sentences)
    phrase_features = vectorizer.keyphrases_.transform(sentences).toarray()
    assert np.array_equal(rows.phrases.to_scipy().toarray() > 0, phrase_features > 0)


def test_any_vectorizer_works_through_joined_texts(records):
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [r["text"] for r in records[:80]]
    labels = [r["labels"] for r in records[:80]]
    model = TopicModel(vectorizer=TfidfVectorizer(), classifier=ThemeClassifier(cv=2, random_state=0)).fit(
        texts, labels
    )
    result = model.classify(texts[0])
    assert set(result.labels) <= set(model.classes_) and all(s in texts[0] for s in result.evidence.values())


# ---- the rule ---------------------------------------------------------------------------


@given(
    st.lists(st.floats(0, 1), min_size=6, max_size=6),
    st.lists(st.floats(0, 1), min_size=6, max_size=6),
    st.lists(st.floats(0.05, 0.95), min_size=6, max_size=6),
    st.lists(st.floats(0.05, 0.95), min_size=6, max_size=6),
)
def test_a_theme_is_never_both_about_and_named(about, found, a_cut, f_cut):
    about, found = np.array([about[:3], about[3:]]), np.array([found[:3], found[3:]])
    a_cut, f_cut = np.array(a_cut[:3]), np.array(f_cut[:3])
    is_about, is_named = split_levels(about, found, a_cut, f_cut)
    assert not (is_about & is_named).any()
    for i, decision in enumerate(decide(about, found, a_cut, f_cut)):
        assert set(decision.labels) == set(np.flatnonzero(is_about[i]).tolist())
        assert set(decision.mentions) == set(np.flatnonzero(is_named[i]).tolist())
        assert [about[i, j] for j in decision.labels] == sorted((about[i, j] for j in decision.labels), reverse=True)


def test_passage_layer_learns_both_heads_with_mentions_and_only_about_without():
    rng = np.random.default_rng(0)
    n, t = 300, 3
    F = rng.normal(size=(n, t, len(SIGNALS)))
    about = (F[:, :, 0] > 0.8).astype(np.int8)  # the article-level signal decides "about"
    named = ((F[:, :, 3] > 0.5) & (about == 0)).astype(np.int8)  # the best sentence decides "named"
    folds = [np.arange(k, n, 3) for k in range(3)]
    layer = PassageLayer().fit(F, about, about | named, np.ones(n, dtype=bool), folds)
    assert layer.found_learned_
    assert np.argmax(np.abs(layer.about_coef_).mean(axis=0)) == 0
    assert np.argmax(np.abs(layer.found_coef_).mean(axis=0)) == 3
    p_about, p_found = layer.predict_proba(F, np.zeros(t))
    is_about, is_named = split_levels(p_about, p_found, layer.about_thresholds_, layer.found_thresholds_)
    assert (is_about == about.astype(bool)).mean() > 0.9 and (is_named == named.astype(bool)).mean() > 0.85
    unlearned = PassageLayer().fit(F, about, None, None, folds)
    assert not unlearned.found_learned_


# ---- the model's two-level answer -----------------------------------------------------


@pytest.fixture(scope="module")
def two_level_model(records):
    """Trained on a third of the fixtures, with the mentions that the fixtures carry."""
    subset = records[::3]
    return TopicModel(classifier=ThemeClassifier(cv=3, random_state=0)).fit(
        [r["text"] for r in subset], [r["labels"] for r in subset], mentions=[r.get("mentions") for r in subset]
    )


def test_evidence_is_quoted_as_written_and_never_from_boilerplate(two_level_model):
    article = (
        "ضبط شحنة كبتاغون ضخمة في ميناء جدة الإسلامي\n"
        "أحبطت المديرية العامة لمكافحة المخدرات تهريب أربعة ملايين قرص كبتاغون مخبأة في شحنة رمان، "
        "وأوقفت ثلاثة مقيمين من أفراد الشبكة.\n"
        "اقرأ أيضاً:\n"
        "هجوم إرهابي بسيارة مفخخة يستهدف نقطة تفتيش، وتنظيم داعش يتبنى التفجير الانتحاري."
    )
    result = two_level_model.classify(article)
    assert "drugs" in result.labels
    head = article.split("اقرأ")[0]
    for theme, sentence in {**result.evidence, **result.mentions}.items():
        assert sentence and sentence in head, theme  # a sentence of the article, as written
    assert "terrorism" not in result.labels and "terrorism" not in result.mentions
    assert set(result.evidence) == set(result.labels)
    assert not set(result.labels) & set(result.mentions)


def test_original_letters_are_kept_in_the_evidence(two_level_model):
    article = "ضَبْطُ شحنة حشیش فی المیناء. وأوقفت الشرطة المهرّبین وصادرت المخدّرات والأموال."
    result = two_level_model.classify(article)
    assert "drugs" in result.labels
    # quoted from the text as written: diacritics and the Persian yeh are still there
    assert result.evidence["drugs"] in article and any(
        c in result.evidence["drugs"] for c in "\u064e\u064f\u0651\u0652ی"
    )


def test_every_result_carries_both_levels(two_level_model, records):
    texts = [r["text"] for r in records[1:200:7]]
    proba, named = two_level_model.predict_levels(texts)
    for text, result, p, m in zip(texts, two_level_model.classify_many(texts), proba, named):
        record = result.to_dict()
        assert set(record) >= {"labels", "scores", "mentions", "evidence"}
        assert list(record["mentions"]) == list(result.mentions)
        assert {two_level_model.classes_[j] for j in np.flatnonzero(m)} == set(result.mentions)
        assert set(result.labels) == {
            c for c, q, t in zip(two_level_model.classes_, p, two_level_model.thresholds_) if q >= t
        }
        assert all(s in text for s in record["evidence"].values())


def test_retrain_with_and_without_mentions(records):
    long = [r for r in records if len(r["text"]) > 2500 and len(r["mentions"]) >= 3]
    subset = long[::2] + records[::6]
    texts, labels = [r["text"] for r in subset], [r["labels"] for r in subset]
    with_mentions = TopicModel(classifier=ThemeClassifier(cv=3, random_state=0)).fit(
        texts, labels, mentions=[r["mentions"] for r in subset]
    )
    without = TopicModel(classifier=ThemeClassifier(cv=3, random_state=0)).fit(texts, labels)
    assert with_mentions.passages_.found_learned_ and not without.passages_.found_learned_
    unseen = [r["text"] for r in long[1::2][:30]]
    for model in (with_mentions, without):
        results = model.classify_many(unseen)
        assert sum(len(r.mentions) for r in results) >= 30  # without mention labels: the sentence rule names them
        for r in results:
            assert not set(r.labels) & set(r.mentions)


def test_own_label_set_gets_mentions_from_the_sentence_level(records):
    subset = records[::4]
    labels = [[lab.upper() for lab in r["labels"] if lab in ("drugs", "terrorism")] for r in subset]
    model = TopicModel(classifier=ThemeClassifier(cv=3, random_state=0)).fit([r["text"] for r in subset], labels)
    article = (
        "وزير الداخلية يستقبل سفير إيطاليا\n"
        "استقبل وزير الداخلية سفير إيطاليا وبحثا سبل التعاون في مجالات التدريب وتبادل الخبرات والزيارات. "
        "وأكد الجانبان حرصهما على تطوير العلاقات الثنائية في مختلف المجالات وعلى تنسيق المواقف. "
        "كما تطرق اللقاء إلى ضبط شحنات الكبتاغون والحشيش وتهريب المخدرات عبر الموانئ. "
        "وفي ختام اللقاء تبادل الجانبان الهدايا التذكارية وأشاد الوزير بمستوى العلاقات بين البلدين."
    )
    result = model.classify(article)
    assert "DRUGS" in set(result.labels) | set(result.mentions)


def test_cv_less_model_answers_on_two_levels(records):
    subset = records[::5]
    model = TopicModel(classifier=ThemeClassifier(cv=0)).fit([r["text"] for r in subset], [r["labels"] for r in subset])
    assert np.allclose(model.thresholds_, model.classifier_.thresholds_)
    result = model.classify(subset[0]["text"])
    assert set(result.evidence) == set(result.labels)


def test_sparse_layout_handles_empty_articles(two_level_model):
    results = two_level_model.classify_many(["", "   ", "كلمات دلالية:\nمخدرات", "ضبط شحنة حشيش."])
    assert [r.labels for r in results[:3]] == [(), (), ()]
    assert all(not r.mentions and not r.evidence for r in results[:3])
    assert sp.issparse(two_level_model.transform(["", "ضبط"]))
