"""Multi-label scores in plain numpy: per-theme precision/recall/F1, micro and
macro averages, the best F1 threshold, and the most confused theme pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["best_f1_threshold", "confused_pairs", "format_report", "label_report"]


def best_f1_threshold(y: np.ndarray, proba: np.ndarray, beta: float = 1.0) -> float:
    """The probability cut that maximises F1 (or F-beta) of one binary label.

    Candidates are the midpoints between consecutive distinct scores; among
    equally good cuts the middle one is taken, which keeps a margin on both
    sides.  With no positive example, 0.5 is returned.  ``beta < 1`` weighs
    precision more than recall.

    Examples
    --------
    >>> best_f1_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.6, 0.9]))
    0.45
    >>> best_f1_threshold(np.array([0, 1, 0, 1, 1]), np.array([0.1, 0.3, 0.5, 0.6, 0.9]), beta=0.5)
    0.55
    """
    y = np.asarray(y).astype(bool)
    proba = np.asarray(proba, dtype=float)
    if not y.any():
        return 0.5
    order = np.argsort(-proba, kind="stable")
    p_sorted, y_sorted = proba[order], y[order]
    tp = np.cumsum(y_sorted)
    predicted = np.arange(1, len(y) + 1)
    b2 = beta * beta
    f1 = (1 + b2) * tp / (predicted + b2 * y.sum())
    # only cut between distinct scores
    last_of_run = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    f1 = np.where(last_of_run, f1, -1)
    best = np.flatnonzero(f1 >= f1.max() - 1e-12)
    i = int(best[len(best) // 2])
    below = p_sorted[i + 1] if i + 1 < len(p_sorted) else 0.0
    return round(float((p_sorted[i] + below) / 2), 6)


def label_report(Y_true: np.ndarray, Y_pred: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """Precision, recall, F1 and support per label, plus micro and macro F1.

    Parameters
    ----------
    Y_true, Y_pred : ndarray of shape (n_samples, n_labels)
        0/1 matrices.
    labels : sequence of str
        Column names.

    Returns
    -------
    dict
        ``{"labels": {name: {"precision", "recall", "f1", "support"}},
        "micro_f1", "macro_f1", "micro_precision", "micro_recall",
        "n_documents", "no_label_false_positive_rate"}``.

    Examples
    --------
    >>> r = label_report(np.array([[1, 0], [0, 1]]), np.array([[1, 0], [1, 1]]), ["a", "b"])
    >>> r["labels"]["a"]["precision"], r["micro_f1"]
    (0.5, 0.8)
    """
    T = np.asarray(Y_true, dtype=bool)
    P = np.asarray(Y_pred, dtype=bool)
    tp = (T & P).sum(axis=0)
    fp = (~T & P).sum(axis=0)
    fn = (T & ~P).sum(axis=0)
    per: dict[str, dict[str, float]] = {}
    for j, name in enumerate(labels):
        prec = tp[j] / (tp[j] + fp[j]) if tp[j] + fp[j] else 0.0
        rec = tp[j] / (tp[j] + fn[j]) if tp[j] + fn[j] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[str(name)] = {
            "precision": round(float(prec), 4),
            "recall": round(float(rec), 4),
            "f1": round(float(f1), 4),
            "support": int(T[:, j].sum()),
        }
    TP, FP, FN = tp.sum(), fp.sum(), fn.sum()
    micro_p = TP / (TP + FP) if TP + FP else 0.0
    micro_r = TP / (TP + FN) if TP + FN else 0.0
    micro_f1 = 2 * micro_p * micro_r / (micro_p + micro_r) if micro_p + micro_r else 0.0
    supported = [v["f1"] for v in per.values() if v["support"] > 0]
    off_topic = ~T.any(axis=1)
    fp_rate = float(P[off_topic].any(axis=1).mean()) if off_topic.any() else 0.0
    return {
        "labels": per,
        "micro_precision": round(float(micro_p), 4),
        "micro_recall": round(float(micro_r), 4),
        "micro_f1": round(float(micro_f1), 4),
        "macro_f1": round(float(np.mean(supported)) if supported else 0.0, 4),
        "n_documents": int(T.shape[0]),
        "n_off_topic": int(off_topic.sum()),
        "off_topic_false_positive_rate": round(fp_rate, 4),
    }


def confused_pairs(Y_true: np.ndarray, Y_pred: np.ndarray, labels: Sequence[str], top: int = 5) -> list[dict[str, Any]]:
    """Theme pairs most often confused: predicted ``wrong`` while the article
    carried ``true`` (and not ``wrong``).

    Examples
    --------
    >>> confused_pairs(np.array([[1, 0], [1, 0]]), np.array([[1, 1], [1, 1]]), ["a", "b"])
    [{'true': 'a', 'predicted': 'b', 'count': 2}]
    """
    T = np.asarray(Y_true, dtype=bool)
    P = np.asarray(Y_pred, dtype=bool)
    wrong = P & ~T  # false positives per cell
    counts = T.T.astype(int) @ wrong.astype(int)  # [true, predicted]
    np.fill_diagonal(counts, 0)
    pairs = [
        {"true": str(labels[a]), "predicted": str(labels[b]), "count": int(counts[a, b])}
        for a, b in zip(*np.nonzero(counts))
    ]
    pairs.sort(key=lambda p: (-p["count"], p["true"], p["predicted"]))
    return pairs[:top]


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of :func:`label_report` output."""
    width = max([len(name) for name in report["labels"]] + [5])
    lines = [f"{'theme':<{width}}  precision  recall     f1  support"]
    for name, row in report["labels"].items():
        lines.append(
            f"{name:<{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  {row['f1']:5.3f}  {row['support']:7d}"
        )
    lines.append(
        f"micro F1 {report['micro_f1']:.3f} (P {report['micro_precision']:.3f}, R {report['micro_recall']:.3f})"
        f"  macro F1 {report['macro_f1']:.3f}  documents {report['n_documents']}"
    )
    if report.get("n_off_topic"):
        lines.append(
            f"off-topic documents given a theme: {report['off_topic_false_positive_rate']:.1%}"
            f" of {report['n_off_topic']}"
        )
    return "\n".join(lines)
