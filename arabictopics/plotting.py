"""Evaluation plots (needs the optional ``plot`` extra: matplotlib)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .exceptions import ArabicTopicsError

__all__ = ["plot_report"]


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ArabicTopicsError('plotting needs matplotlib: pip install "arabictopics[plot]"') from None
    return plt


def plot_report(result: Any, model: Any, data: Any, path: str | os.PathLike[str]) -> None:
    """Draw per-theme F1 bars and precision-recall curves to ``path`` (PNG).

    Parameters
    ----------
    result : EvaluationReport
    model : TopicModel
    data : LabeledData
        The data ``result`` was computed on.
    path : path
    """
    from .model import _label_matrix

    plt = _pyplot()
    labels = [str(c) for c in model.classes_]
    proba = model.predict_proba(data.texts)
    Y = _label_matrix(data.labels, labels).astype(bool)
    fig, (bars, curves) = plt.subplots(1, 2, figsize=(13, 5))
    f1 = [result.report["labels"][name]["f1"] for name in labels]
    bars.barh(labels, f1, color="#3a6ea5")
    bars.set_xlim(0, 1)
    bars.set_xlabel("F1")
    bars.set_title(f"per-theme F1 (micro {result.report['micro_f1']:.2f}, macro {result.report['macro_f1']:.2f})")
    bars.invert_yaxis()
    for j, name in enumerate(labels):
        if not Y[:, j].any():
            continue
        order = np.argsort(-proba[:, j])
        hits = Y[order, j]
        tp = np.cumsum(hits)
        precision = tp / np.arange(1, len(hits) + 1)
        recall = tp / hits.sum()
        curves.plot(recall, precision, label=name, linewidth=1)
    curves.set_xlabel("recall")
    curves.set_ylabel("precision")
    curves.set_xlim(0, 1)
    curves.set_ylim(0, 1.02)
    curves.set_title("precision-recall per theme")
    curves.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
