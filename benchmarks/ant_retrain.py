"""Retrain on the public ANT corpus: our preprocessing against raw text, same classifier, same split.

    python benchmarks/ant_retrain.py [--shared ../shared] [--corpus v2.1 v1.1] [--cv 5]

ANT (Chouigui, Ben Khiroun, Elayeb) is single-label news topic data.  The
samples in ../shared/corpora carry a fixed stratified 80/20 ``split``; both
pipelines are fitted on ``train`` and scored on ``test``:

  (i)  ours: ArabicPreprocessor() + make_vectorizer() + LinearSVC()
       (our cleaning and normalisation, then the default model's features:
       stop words, light stemming, TF-IDF, and whatever else
       make_vectorizer() adds, such as theme key-phrase counts);
  (ii) raw:  TfidfVectorizer() + LinearSVC() on the raw text.

The classifier is the same, so the comparison is about preprocessing and
features.  Printed: accuracy and macro-F1 of both, a paired comparison on the
test articles (McNemar exact test on the articles only one pipeline gets
right), per-label F1, and, because one 20% test split is small, the mean
accuracy over a stratified 5-fold CV of the whole sample (``--cv 0`` skips
it).  The published figures on ANT we could find are printed beside, with
their citation; they use other ANT versions, label sets and splits, so they
are context, not a like-for-like comparison.  The texts are read at run time
and never stored here.  Skips cleanly when ../shared/corpora is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from arabictopics import ArabicPreprocessor, make_vectorizer  # noqa: E402

CORPORA = {
    "v2.1": "ant_v2.1_multisource.sample.jsonl",
    "v1.1": "ant_v1.1_jawharafm.sample.jsonl",
}

# Published results on ANT, as listed in shared/corpora/README.md ("Published results on these corpora").
# The ANT version, label set (5 classes) and split are not the same as ours: context only.
ARLUE_CITATION = (
    "ARLUE topic table, ANT (5 classes; ANT version and split not stated), F1 x 100; "
    "UBC-NLP/marbert README.md @ 00c387ee1e91 (Abdul-Mageed et al., ARBERT & MARBERT, ACL 2021)"
)
PUBLISHED_ANT_F1 = {
    # input: {model: F1}
    "text only": {
        "mBERT": 84.89,
        "XLM-R-B": 85.77,
        "XLM-R-L": 86.72,
        "AraBERT": 88.17,
        "ARBERT": 86.87,
        "MARBERT": 85.27,
    },
    "title only": {
        "mBERT": 78.29,
        "XLM-R-B": 79.96,
        "XLM-R-L": 81.25,
        "AraBERT": 81.03,
        "ARBERT": 81.70,
        "MARBERT": 81.19,
    },
    "title+text": {
        "mBERT": 84.67,
        "XLM-R-B": 86.21,
        "XLM-R-L": 86.96,
        "AraBERT": 87.22,
        "ARBERT": 87.21,
        "MARBERT": 85.60,
    },
}
NO_TFIDF_NOTE = (
    "shared/corpora/README.md found no published TF-IDF+SVM or fastText figure on ANT v2.1, and lists no figure "
    "specific to ANT v1.1."
)


def load(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [r["text"] for r in rows]
    return texts, np.array([r["label"] for r in rows]), np.array([r["split"] for r in rows])


def ours_features(docs_train: list[str], docs_test: list[str]):
    vectorizer = make_vectorizer()
    return vectorizer.fit_transform(docs_train), vectorizer.transform(docs_test)


def raw_features(docs_train: list[str], docs_test: list[str]):
    vectorizer = TfidfVectorizer()
    return vectorizer.fit_transform(docs_train), vectorizer.transform(docs_test)


def fit_predict(features, train_docs, y_train, test_docs) -> np.ndarray:
    X_train, X_test = features(train_docs, test_docs)
    return LinearSVC().fit(X_train, y_train).predict(X_test)


def mcnemar_p(only_a: int, only_b: int) -> float:
    from scipy.stats import binomtest

    return float(binomtest(only_a, only_a + only_b).pvalue) if only_a + only_b else 1.0


def run_corpus(name: str, path: Path, cv: int) -> dict:
    texts, y, split = load(path)
    train, test = np.flatnonzero(split == "train"), np.flatnonzero(split == "test")
    print(
        f"\n=== ANT {name}: {path.name}  ({len(texts)} articles: {len(train)} train / {len(test)} test, "
        f"{len(set(y))} labels) ==="
    )
    start = time.perf_counter()
    cleaned = ArabicPreprocessor().fit_transform(texts)  # stateless: cleaning everything once is not a leak
    clean_s = time.perf_counter() - start
    pipelines = {
        "(i) ours: ArabicPreprocessor + make_vectorizer + LinearSVC": (cleaned, ours_features),
        "(ii) raw: TfidfVectorizer() + LinearSVC() on raw text": (texts, raw_features),
    }
    predictions, rows = {}, []
    for label, (docs, features) in pipelines.items():
        start = time.perf_counter()
        pred = fit_predict(features, [docs[i] for i in train], y[train], [docs[i] for i in test])
        seconds = time.perf_counter() - start + (clean_s if docs is cleaned else 0.0)
        predictions[label] = pred
        rows.append((label, accuracy_score(y[test], pred), f1_score(y[test], pred, average="macro"), seconds))
    print(f"{'pipeline (fixed train/test split)':<62} {'accuracy':>8} {'macro-F1':>8} {'seconds':>7}")
    for label, acc, mf1, seconds in rows:
        print(f"{label:<62} {acc:8.4f} {mf1:8.4f} {seconds:7.1f}")
    ours, raw = predictions.values()
    truth = y[test]
    only_ours = int(((ours == truth) & (raw != truth)).sum())
    only_raw = int(((raw == truth) & (ours != truth)).sum())
    print(
        f"paired: only ours right {only_ours}, only raw right {only_raw} "
        f"(McNemar exact p = {mcnemar_p(only_ours, only_raw):.2f})"
    )
    labels = sorted(set(y))
    print(
        "per-label F1 ours / raw: "
        + ", ".join(
            f"{lab} {f1_score(truth == lab, ours == lab):.3f}/{f1_score(truth == lab, raw == lab):.3f}"
            for lab in labels
        )
    )
    result = {
        "acc": (rows[0][1], rows[1][1]),
        "macro_f1": (rows[0][2], rows[1][2]),
        "mcnemar_p": mcnemar_p(only_ours, only_raw),
    }
    if cv >= 2:
        scores: dict[str, list[float]] = {"ours": [], "raw": []}
        for a, b in StratifiedKFold(cv, shuffle=True, random_state=0).split(texts, y):
            for key, (docs, features) in zip(scores, pipelines.values()):
                pred = fit_predict(features, [docs[i] for i in a], y[a], [docs[i] for i in b])
                scores[key].append(accuracy_score(y[b], pred))
        diffs = np.subtract(scores["ours"], scores["raw"])
        print(
            f"{cv}-fold stratified CV on the whole sample, accuracy: ours {np.mean(scores['ours']):.4f}, "
            f"raw {np.mean(scores['raw']):.4f}; ours - raw per fold {', '.join(f'{d:+.3f}' for d in diffs)}"
        )
        result["cv_acc"] = (float(np.mean(scores["ours"])), float(np.mean(scores["raw"])))
    return result


def print_published() -> None:
    print(f"\npublished figures on ANT (context, not comparable): {ARLUE_CITATION}")
    models = list(next(iter(PUBLISHED_ANT_F1.values())))
    print(f"{'input':<11} " + " ".join(f"{m:>8}" for m in models))
    for inp, row in PUBLISHED_ANT_F1.items():
        print(f"{inp:<11} " + " ".join(f"{row[m]:8.2f}" for m in models))
    print(NO_TFIDF_NOTE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared directory")
    parser.add_argument("--corpus", nargs="+", choices=sorted(CORPORA), default=["v2.1", "v1.1"])
    parser.add_argument("--cv", type=int, default=5, help="folds of the whole-sample CV check (0 skips it)")
    args = parser.parse_args(argv)
    corpora = args.shared / "corpora"
    available = {name: corpora / CORPORA[name] for name in args.corpus if (corpora / CORPORA[name]).is_file()}
    if not available:
        print(f"skipped: no ANT sample under {corpora} (see shared/corpora/README.md).")
        return 0
    verdicts = []
    for name, path in available.items():
        result = run_corpus(name, path, args.cv)
        (acc_ours, acc_raw), (f1_ours, f1_raw) = result["acc"], result["macro_f1"]
        lost = acc_ours < acc_raw or f1_ours < f1_raw
        verdict = "ours LOSES to raw text on the fixed split" if lost else "ours >= raw text on the fixed split"
        verdict += f" (McNemar p = {result['mcnemar_p']:.2f})"
        if "cv_acc" in result:
            cv_ours, cv_raw = result["cv_acc"]
            verdict += f"; {'ours' if cv_ours >= cv_raw else 'raw'} ahead in CV ({cv_ours - cv_raw:+.4f})"
        verdicts.append(f"ANT {name}: {verdict}")
    for name in args.corpus:
        if name not in available:
            print(f"\n(ANT {name} not found under {corpora}; skipped)")
    print_published()
    print("\n" + "\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
