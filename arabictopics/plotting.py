"""Evaluation plots (needs the optional ``plot`` extra: matplotlib).

:func:`plot_report` draws one figure: the per-theme F1 bars as an overview,
and a grid of small precision-recall panels, one per theme, each with the
theme's operating point (the precision and recall the model reaches at its
tuned threshold for that theme) marked and its axes zoomed to its curve.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .exceptions import ArabicTopicsError

__all__ = ["plot_report"]

CURVE_COLOR = "#0072B2"  # Okabe-Ito blue
POINT_COLOR = "#D55E00"  # Okabe-Ito vermillion: the operating point, readable by colour-blind eyes
EMPTY_COLOR = "#9a9a9a"
PANEL_COLUMNS = 4
THRESHOLD_GID = "threshold"  # gid of each panel's operating-point marker
CURVE_GID = "pr-curve"


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ArabicTopicsError(
            'plotting needs matplotlib: pip install matplotlib (or, in the source tree, pip install ".[plot]").'
        ) from None
    return plt


@dataclass(frozen=True)
class _Theme:
    """What one theme's panel shows.

    Attributes
    ----------
    name : str
    recall, precision : ndarray
        The precision-recall curve, highest cut first.
    threshold : float
        The model's tuned threshold for the theme.
    point : tuple of float
        ``(recall, precision)`` at ``threshold``.
    predicted : int
        Articles scored at or above ``threshold``.
    support : int
        Articles labeled with the theme.
    """

    name: str
    recall: np.ndarray
    precision: np.ndarray
    threshold: float
    point: tuple[float, float]
    predicted: int
    support: int


def _operating_point(truth: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[tuple[float, float], int]:
    """Recall and precision of ``scores >= threshold`` (the model's prediction rule).

    Parameters
    ----------
    truth : ndarray of bool, shape (n,)
    scores : ndarray of float, shape (n,)
    threshold : float

    Returns
    -------
    ((recall, precision), predicted)
        With nothing predicted, precision is 1.0 at recall 0 (where every
        precision-recall curve starts).

    Examples
    --------
    >>> _operating_point(np.array([True, False, True]), np.array([0.9, 0.6, 0.3]), 0.5)
    ((0.5, 0.5), 2)
    """
    chosen = scores >= threshold
    predicted = int(chosen.sum())
    hits = int((chosen & truth).sum())
    recall = hits / truth.sum() if truth.any() else 0.0
    precision = hits / predicted if predicted else 1.0
    return (float(recall), float(precision)), predicted


def _pr_curve(truth: np.ndarray, scores: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Precision-recall points at every distinct score from the top down to ``floor``.

    One point per distinct score (tied scores are one cut, as the model
    cannot separate them), starting at the first true positive, down to the
    cut where recall reaches 1 or to ``floor`` if that is lower, so the
    operating point at ``floor`` lies on the curve.

    Parameters
    ----------
    truth : ndarray of bool, shape (n,)
        At least one True.
    scores : ndarray of float, shape (n,)
    floor : float
        The theme's threshold.

    Returns
    -------
    (recall, precision) : ndarrays

    Examples
    --------
    >>> r, p = _pr_curve(np.array([True, False, True, False]), np.array([0.9, 0.8, 0.7, 0.1]), 0.5)
    >>> r.tolist(), p.round(2).tolist()
    ([0.5, 0.5, 1.0], [1.0, 0.5, 0.67])
    """
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], truth[order]
    tp = np.cumsum(hits)
    last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]
    cut = np.flatnonzero(last_of_tie)
    recall = tp[cut] / truth.sum()
    precision = tp[cut] / (cut + 1)
    full = int(np.argmax(recall >= 1.0))
    reach = max(full, int(np.searchsorted(-ranked[cut], -floor, side="right")) - 1)
    keep = slice(int(np.argmax(tp[cut] > 0)), reach + 1)
    return recall[keep], precision[keep]


def _themes(model: Any, data: Any) -> list[_Theme]:
    """Curve and operating point of every theme of ``model`` on ``data``.

    The scores and thresholds are the ones :meth:`TopicModel.predict` uses:
    ``predict_proba`` and ``model.thresholds_`` (the passage layer's about
    thresholds, which differ from ``model.classifier_.thresholds_`` once
    the model was fitted with cross-validation).
    """
    from .model import _label_matrix

    labels = [str(c) for c in model.classes_]
    proba = np.asarray(model.predict_proba(data.texts), dtype=float).reshape(len(data.texts), len(labels))
    Y = _label_matrix(data.labels, labels).astype(bool)
    thresholds = np.asarray(model.thresholds_, dtype=float)
    themes = []
    for j, name in enumerate(labels):
        point, predicted = _operating_point(Y[:, j], proba[:, j], thresholds[j])
        if Y[:, j].any():
            recall, precision = _pr_curve(Y[:, j], proba[:, j], thresholds[j])
        else:
            recall = precision = np.zeros(0)
        themes.append(_Theme(name, recall, precision, float(thresholds[j]), point, predicted, int(Y[:, j].sum())))
    return themes


def _zoom(values: np.ndarray, *, min_span: float = 0.1, pad: float = 0.06) -> tuple[float, float]:
    """Axis limits around ``values`` (within [0, 1]) with a margin, at least ``min_span`` wide.

    Examples
    --------
    >>> [round(v, 3) for v in _zoom(np.array([0.7, 0.95, 1.0]))]
    [0.682, 1.018]
    >>> [round(v, 3) for v in _zoom(np.array([1.0]))]
    [0.894, 1.006]
    """
    low, high = float(np.min(values)), float(np.max(values))
    if high - low < min_span:
        low = max(0.0, high - min_span)
        high = max(high, low + min_span)
    margin = pad * (high - low)
    return max(low - margin, -0.02), min(high + margin, 1.02)


def _zoom_recall(theme: _Theme) -> tuple[float, float]:
    """Recall limits: from where the curve leaves its starting precision (or the operating point) to the end.

    The leading flat run of a precision-recall curve (precision stays at its
    first value while recall grows) says one thing, which stays readable as
    the line entering the panel at that height; the axis is spent on the
    rest, at least 0.25 wide.
    """
    moved = np.flatnonzero(~np.isclose(theme.precision, theme.precision[0]))
    start = moved[0] - 1 if len(moved) else len(theme.recall) - 1
    return _zoom(np.r_[theme.recall[start:], theme.point[0]], min_span=0.25)


def _panel_title(theme: _Theme, f1: float) -> str:
    """Name, F1 and support, and the operating point in words (kept off the plot area)."""
    if not theme.support:
        point = f"threshold {theme.threshold:.2f}: {theme.predicted} article(s) reach it"
    elif not theme.predicted:
        point = f"threshold {theme.threshold:.2f}: no article reaches it"
    else:
        recall, precision = theme.point
        point = f"threshold {theme.threshold:.2f}: precision {precision:.2f}, recall {recall:.2f}"
    return f"{theme.name}\nF1 {f1:.2f}, {theme.support} labeled articles\n{point}"


def _draw_panel(ax: Any, theme: _Theme, f1: float) -> None:
    """One theme's precision-recall curve, its operating point, zoomed axes."""
    from matplotlib.ticker import FormatStrFormatter, MaxNLocator

    ax.set_title(_panel_title(theme, f1), fontsize=8.5)
    ax.tick_params(labelsize=7)
    if not theme.support:
        ax.text(0.5, 0.5, "no labeled article", ha="center", va="center", color=EMPTY_COLOR, transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    ax.plot(theme.recall, theme.precision, color=CURVE_COLOR, linewidth=1.3, gid=CURVE_GID)
    ax.plot(
        [theme.point[0]],
        [theme.point[1]],
        linestyle="none",
        marker="o",
        markersize=7,
        markerfacecolor=POINT_COLOR if theme.predicted else "white",
        markeredgecolor=POINT_COLOR,
        markeredgewidth=1.5,
        zorder=3,
        clip_on=False,
        gid=THRESHOLD_GID,
        label="operating point",
    )
    ax.set_xlim(*_zoom_recall(theme))
    ax.set_ylim(*_zoom(np.r_[theme.precision, theme.point[1]]))
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(4, steps=[1, 2, 2.5, 5, 10]))
        axis.set_major_formatter(FormatStrFormatter("%.2f"))
    ax.grid(alpha=0.3, linewidth=0.6)


def _draw_bars(ax: Any, report: dict[str, Any], labels: list[str]) -> None:
    """The per-theme F1 overview, values written at the bar ends."""
    f1 = [report["labels"][name]["f1"] for name in labels]
    ax.barh(labels, f1, color=CURVE_COLOR)
    for y, value in enumerate(f1):
        ax.text(value + 0.01, y, f"{value:.2f}", va="center", fontsize=8)
    ax.set_xlim(0, 1.12)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel("F1 at the tuned thresholds")
    ax.set_title(f"per-theme F1\nmicro {report['micro_f1']:.2f}, macro {report['macro_f1']:.2f}", fontsize=10)
    ax.tick_params(labelsize=8)
    ax.invert_yaxis()


def _report_figure(result: Any, model: Any, data: Any) -> Any:
    """Build the report figure (see :func:`plot_report`) and return it, unsaved and open.

    Parameters
    ----------
    result : EvaluationReport
    model : TopicModel
    data : LabeledData
        The data ``result`` was computed on.

    Returns
    -------
    matplotlib.figure.Figure
        The F1 bars first in ``fig.axes``, then one precision-recall panel
        per theme in ``model.classes_`` order; close it with
        ``plt.close(fig)``.
    """
    plt = _pyplot()
    themes = _themes(model, data)
    rows = math.ceil(len(themes) / PANEL_COLUMNS)
    fig = plt.figure(figsize=(4.2 + 3.1 * PANEL_COLUMNS, 0.6 + 2.9 * rows), layout="constrained")
    grid = fig.add_gridspec(rows, PANEL_COLUMNS + 1, width_ratios=[1.3] + [1.0] * PANEL_COLUMNS)
    _draw_bars(fig.add_subplot(grid[:, 0]), result.report, [t.name for t in themes])
    for k, theme in enumerate(themes):
        ax = fig.add_subplot(grid[k // PANEL_COLUMNS, 1 + k % PANEL_COLUMNS])
        _draw_panel(ax, theme, result.report["labels"][theme.name]["f1"])
        if k + PANEL_COLUMNS >= len(themes):  # the lowest panel of its column
            ax.set_xlabel("recall", fontsize=8)
        if k % PANEL_COLUMNS == 0:
            ax.set_ylabel("precision", fontsize=8)
    fig.suptitle(
        f"Evaluation on {len(data.texts)} articles: precision-recall per theme (axes zoomed to each curve), "
        "dot = operating point at the model's tuned threshold",
        fontsize=11,
    )
    return fig


def plot_report(result: Any, model: Any, data: Any, path: str | os.PathLike[str]) -> None:
    """Draw per-theme F1 bars and one precision-recall panel per theme to ``path`` (PNG).

    Each panel shows the theme's precision-recall curve on ``data``, its
    axes zoomed to the curve, and a dot at the operating point: the
    precision and recall of ``predict_proba >= model.thresholds_``, the
    model's tuned threshold for that theme.

    Parameters
    ----------
    result : EvaluationReport
    model : TopicModel
    data : LabeledData
        The data ``result`` was computed on.
    path : path
    """
    plt = _pyplot()
    fig = _report_figure(result, model, data)
    try:
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
