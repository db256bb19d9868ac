"""Scoring a model on labeled data: per-theme report, confusions, worst examples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dataset import LabeledData
from .exceptions import DataError
from .metrics import confused_pairs, format_report, label_report
from .model import TopicModel, _label_matrix
from .passages import split_levels

__all__ = ["EvaluationReport", "cross_validate", "evaluate"]


@dataclass
class EvaluationReport:
    """What :func:`evaluate` measured.

    Attributes
    ----------
    report : dict
        :func:`arabictopics.metrics.label_report` output.
    confused : list of dict
        Theme pairs most often confused.
    false_positives, misses : list of dict
        The worst-scored examples: ``{"id", "theme", "score", "labels"}``.
    found : dict or None
        The second level: :func:`arabictopics.metrics.label_report` of what
        the model found (labels and mentions) against what the articles are
        about or name (labels and mentions), over the articles whose
        mentions were labeled; ``None`` when none were.
    """

    report: dict[str, Any]
    confused: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)
    found: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.report,
            "confused": self.confused,
            "false_positives": self.false_positives,
            "misses": self.misses,
            "found": self.found,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationReport:
        """Inverse of :meth:`to_dict` (e.g. the ``cv_metrics`` of a model's metadata)."""
        extra = ("confused", "false_positives", "misses", "found")
        report = {k: v for k, v in data.items() if k not in extra}
        return cls(
            report,
            data.get("confused", []),
            data.get("false_positives", []),
            data.get("misses", []),
            data.get("found"),
        )

    def format(self) -> str:
        """Plain-text summary for a terminal."""
        lines = ["about (labels):", format_report(self.report)]
        if self.found is not None:
            f = self.found
            lines.append(
                f"found (labels + mentions, on {f['n_documents']} articles with mentions labeled): "
                f"precision {f['micro_precision']:.3f}, recall {f['micro_recall']:.3f}, micro F1 {f['micro_f1']:.3f}"
            )
        if self.confused:
            lines.append(
                "most confused (true -> also predicted): "
                + ", ".join(f"{c['true']}->{c['predicted']} ({c['count']})" for c in self.confused)
            )
        for title, rows in (("worst false positives", self.false_positives), ("worst misses", self.misses)):
            if rows:
                lines.append(f"{title}:")
                lines.extend(f"  {r['id']}  {r['theme']}  {r['score']:.3f}  labels={r['labels']}" for r in rows)
        return "\n".join(lines)


def _worst(ids, Y, P, proba, labels, *, positives: bool, top: int) -> list[dict[str, Any]]:
    rows = []
    for i, j in zip(*np.nonzero((P & ~Y) if positives else (Y & ~P))):
        rows.append((float(proba[i, j]), i, j))
    rows.sort(reverse=positives)
    out = []
    for score, i, j in rows[:top]:
        out.append(
            {
                "id": ids[i],
                "theme": str(labels[j]),
                "score": round(score, 4),
                "labels": [str(labels[k]) for k in np.flatnonzero(Y[i])],
            }
        )
    return out


def score_predictions(
    ids, Y_true, proba, thresholds, labels, *, top: int = 10, found: tuple[Any, Any, Any] | None = None
) -> EvaluationReport:
    """Build an :class:`EvaluationReport` from probabilities and thresholds.

    ``found``, optional: ``(M_true, M_pred, rows)``, the 0/1 mention
    matrices and the rows whose mentions were labeled, for the second level.
    """
    Y = np.asarray(Y_true, dtype=bool)
    P = np.asarray(proba) >= np.asarray(thresholds)
    found_report = None
    if found is not None:
        M_true, M_pred, rows = (np.asarray(a) for a in found)
        rows = rows.astype(bool)
        if rows.any():
            found_report = label_report((Y | M_true.astype(bool))[rows], (P | M_pred.astype(bool))[rows], labels)
    return EvaluationReport(
        report=label_report(Y, P, labels),
        confused=confused_pairs(Y, P, labels),
        false_positives=_worst(ids, Y, P, proba, labels, positives=True, top=top),
        misses=_worst(ids, Y, P, proba, labels, positives=False, top=top),
        found=found_report,
    )


def _mention_truth(data: LabeledData, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    rows = np.array([row is not None for row in data.mentions], dtype=bool)
    M = _label_matrix([row or [] for row in data.mentions], labels)
    return M, rows


def unknown_labels(model: TopicModel, data: LabeledData) -> dict[str, int]:
    """Labels and mentions of ``data`` that ``model`` does not know, with how many articles carry each."""
    known = {str(c) for c in model.classes_}
    counts: dict[str, int] = {}
    for row, named in zip(data.labels, data.mentions):
        for label in set(row) | set(named or ()):
            if label not in known:
                counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items()))


def _closest(label: str, known: list[str]) -> str | None:
    import difflib

    lowered = {k.lower(): k for k in known}
    if label.lower() in lowered:
        return lowered[label.lower()]
    match = difflib.get_close_matches(label.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def evaluate(
    model: TopicModel, data: LabeledData, *, top: int = 10, ignore_unknown_labels: bool = False
) -> EvaluationReport:
    """Score ``model`` on held-out labeled articles, on both levels.

    The about level compares the model's labels with the articles' labels;
    the found level compares labels + mentions with labels + mentions, over
    the articles whose mentions were labeled.

    A label of ``data`` that the model does not know (``"Drugs"`` for
    ``"drugs"``) would silently count as no label at all: it raises
    :class:`~arabictopics.exceptions.DataError` listing the unknown labels
    beside the model's, with the closest match, unless
    ``ignore_unknown_labels``.

    Parameters
    ----------
    model : TopicModel
    data : LabeledData
    top : int, default=10
        How many worst false positives and misses to list.

    Returns
    -------
    EvaluationReport
    """
    labels = [str(c) for c in model.classes_]
    unknown = unknown_labels(model, data)
    if unknown and not ignore_unknown_labels:
        listed = "; ".join(
            f"{label!r} ({n} article{'s' if n > 1 else ''}"
            + (f"; did you mean {match!r}?" if (match := _closest(label, labels)) else "")
            + ")"
            for label, n in unknown.items()
        )
        raise DataError(
            f"the data has labels the model does not know: {listed}. The model's labels: {', '.join(labels)}. "
            "Fix the labels, or pass --ignore-unknown-labels to score without them."
        )
    proba, mentioned = model.predict_levels(data.texts)
    Y = _label_matrix(data.labels, labels)
    M, rows = _mention_truth(data, labels)
    return score_predictions(data.ids, Y, proba, model.thresholds_, labels, top=top, found=(M, mentioned, rows))


def cross_validate(model: TopicModel, data: LabeledData, *, top: int = 10) -> EvaluationReport:
    """Report of a fitted model's out-of-fold predictions on its own training data.

    The thresholds were tuned on the same out-of-fold probabilities, so
    the figures lean optimistic; held-out data (:func:`evaluate`) is the
    honest measure.
    """
    layer = model.passages_
    if getattr(layer, "oof_about_", None) is None:
        raise ValueError("the model was fitted without cross-validation (cv < 2); nothing to report.")
    labels = [str(c) for c in model.classes_]
    Y = _label_matrix(data.labels, labels)
    found = None
    if layer.found_learned_:
        M, rows = _mention_truth(data, labels)
        _, named = split_levels(layer.oof_about_, layer.oof_found_, model.thresholds_, layer.found_thresholds_)
        found = (M, named, rows)
    return score_predictions(data.ids, Y, layer.oof_about_, model.thresholds_, labels, top=top, found=found)
