"""Compare preprocessing, feature and classifier options by cross-validated F1
on the fixtures, and their scoring cost; write the table decided from.

    python training/tune.py            # writes training/tuning.md

Every option is scored with the same 5 iterative-stratified folds (seed 0):
the vectorizer and classifier are fitted on four folds and scored on the
fifth; thresholds are tuned inside the training folds (3-fold), so the
figures are out-of-sample.  "cost" is the time to clean + vectorize all
fixtures relative to a plain TfidfVectorizer() transform of the raw text.
When ../shared/corpora is present, each option is also fitted on all the
fixtures and scored on the real-news development set (benchmarks/devset):
the "dev" columns.  The variants that lost live only here, not in the library.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402

from arabictopics.dataset import load_labeled  # noqa: E402
from arabictopics.features import ArabicTfidfVectorizer, KeyphraseCounter, ThemeFeatures  # noqa: E402
from arabictopics.metrics import label_report  # noqa: E402
from arabictopics.model import ThemeClassifier, _label_matrix, iterative_folds  # noqa: E402
from arabictopics.taxonomy import theme_labels  # noqa: E402
from arabictopics.text import STOP_WORDS, analyze, clean, light_stem, tokenize  # noqa: E402


def words_plain(text: str) -> list[str]:
    return tokenize(text)


def words_stop(text: str) -> list[str]:
    return [t for t in tokenize(text) if t not in STOP_WORDS]


def words_stem_no_stop(text: str) -> list[str]:
    return [light_stem(t) for t in tokenize(text)]


def words_teh_folded(text: str) -> list[str]:
    return analyze(text.replace("ة", "ه"))


_PREFIX_ONLY = re.compile(r"^(?:وبال|وكال|وال|فال|بال|كال|ولل|لل|ال)(?=\w{3})")


def words_prefix_only(text: str) -> list[str]:
    return [_PREFIX_ONLY.sub("", t) for t in tokenize(text) if t not in STOP_WORDS]


def words_bigrams(text: str) -> list[str]:
    tokens = analyze(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


OPTIONS = {
    "tokens only": dict(analyzer=words_plain),
    "tokens + stop words": dict(analyzer=words_stop),
    "tokens + light stem (no stop words)": dict(analyzer=words_stem_no_stop),
    "tokens + stop words + prefix-only stem": dict(analyzer=words_prefix_only),
    "tokens + stop words + light stem": dict(analyzer=analyze),
    "  ... with teh marbuta folded to heh": dict(analyzer=words_teh_folded),
    "  ... word 1-2-grams": dict(analyzer=words_bigrams),
    "char_wb 2-5-grams": dict(analyzer="char_wb", ngram_range=(2, 5), max_features=200000),
}
KEYPHRASE_WEIGHTS = (0.05, 0.1, 0.2, 0.5)
C_VALUES = (1.0, 3.0, 10.0, 30.0)


def make_features(vec_params: dict, keyphrase_weight: float | None = None):
    params = {"sublinear_tf": True, "min_df": 2, "max_df": 0.95, **vec_params}
    if keyphrase_weight is None:
        return TfidfVectorizer(**params)
    tfidf = ArabicTfidfVectorizer(**params) if callable(params.get("analyzer")) else TfidfVectorizer(**params)
    return ThemeFeatures(tfidf, KeyphraseCounter(weight=keyphrase_weight))


def devset_scores(docs, Y, vec_params, keyphrase_weight=None, C=10.0):
    """Fit on all fixtures, score the real-news development set: (micro, macro, off-topic FP) or None."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    shared = ROOT.parent / "shared"
    if not (shared / "corpora").is_dir():
        return None
    from devset import load_devset

    rows, texts = load_devset(shared)
    vec = make_features(vec_params, keyphrase_weight)
    clf = ThemeClassifier(C=C, cv=3, random_state=0).fit(vec.fit_transform(docs), Y)
    predicted = clf.predict(vec.transform([clean(t) for t in texts])).astype(bool)
    truth = _label_matrix([r["labels"] for r in rows], theme_labels()).astype(bool)
    report = label_report(truth, predicted, theme_labels())
    off = ~truth.any(axis=1)
    return report["micro_f1"], report["macro_f1"], float(predicted[off].any(axis=1).mean())


def evaluate(docs, Y, folds, vec_params, C=10.0, keyphrase_weight=None):
    oof = np.zeros(Y.shape, dtype=bool)
    for test in folds:
        train = np.setdiff1d(np.arange(len(docs)), test)
        vec = make_features(vec_params, keyphrase_weight)
        X_train = vec.fit_transform([docs[i] for i in train])
        clf = ThemeClassifier(C=C, cv=3, random_state=0).fit(X_train, Y[train])
        oof[test] = clf.predict(vec.transform([docs[i] for i in test])).astype(bool)
    return label_report(Y, oof, theme_labels())


def cost(raw, docs, vec_params, reference, keyphrase_weight=None):
    vec = make_features(vec_params, keyphrase_weight).fit(docs)
    start = time.perf_counter()
    vec.transform([clean(t) for t in raw])
    return (time.perf_counter() - start) / reference


def main() -> int:
    data = load_labeled(ROOT / "fixtures" / "articles.jsonl", known_labels=theme_labels())
    labels = theme_labels()
    Y = _label_matrix(data.labels, labels)
    folds = iterative_folds(Y, 5, random_state=0)
    docs = [clean(t) for t in data.texts]
    raw = data.texts * 3
    ref = TfidfVectorizer().fit(data.texts)
    start = time.perf_counter()
    ref.transform(raw)
    reference = time.perf_counter() - start
    rows = []

    def run(name, params, C=10.0, weight=None, with_cost=True):
        report = evaluate(docs, Y, folds, params, C=C, keyphrase_weight=weight)
        spent = cost(raw, docs, params, reference, weight) if with_cost else float("nan")
        dev = devset_scores(docs, Y, params, weight, C)
        rows.append((name, f"{C:g}", report["micro_f1"], report["macro_f1"], spent, dev))
        print(rows[-1], flush=True)

    for name, params in OPTIONS.items():
        run(name, params)
    for weight in KEYPHRASE_WEIGHTS:
        mark = " [chosen]" if weight == 0.1 else ""
        run(f"chosen tokens + key phrases, weight {weight}{mark}", {"analyzer": analyze}, weight=weight)
    for C in C_VALUES:
        run("chosen tokens + key phrases 0.1", {"analyzer": analyze}, C=C, weight=0.1, with_cost=False)
    lines = [
        "# Tuning table (written by `python training/tune.py`)",
        "",
        f"{len(data)} fixture articles, 5 iterative-stratified folds (seed 0), thresholds tuned inside each",
        "training split. cost = clean + vectorize time relative to a plain `TfidfVectorizer()` transform of raw text.",
        "dev = fitted on all fixtures, scored on the real-news development set (micro F1 / macro F1 / share of",
        "no-theme articles given a theme); the choice is made on the CV columns, the dev columns check it.",
        "CV differences under 0.01 are within fold-to-fold noise; between such options the dev columns decide.",
        "",
        "| option | C | CV micro F1 | CV macro F1 | cost | dev micro | dev macro | dev off-topic FP |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, C, micro, macro, c, dev in rows:
        shown = " | ".join(f"{v:.3f}" for v in dev) if dev else "- | - | -"
        lines.append(f"| {name} | {C} | {micro:.3f} | {macro:.3f} | {'' if np.isnan(c) else f'{c:.2f}x'} | {shown} |")
    (ROOT / "training" / "tuning.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
