"""The ``evaluate --plot`` figure: one zoomed precision-recall panel per theme, operating points marked."""

from __future__ import annotations

import copy
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from arabictopics.dataset import LabeledData
from arabictopics.evaluation import evaluate
from arabictopics.exceptions import ArabicTopicsError
from arabictopics.model import _label_matrix
from arabictopics.plotting import (
    CURVE_GID,
    THRESHOLD_GID,
    _draw_panel,
    _pr_curve,
    _pyplot,
    _report_figure,
    _Theme,
    plot_report,
)


def _data(records: list[dict]) -> LabeledData:
    return LabeledData(
        ids=[r["id"] for r in records],
        texts=[r["text"] for r in records],
        labels=[r["labels"] for r in records],
        mentions=[r.get("mentions") for r in records],
    )


@pytest.fixture(scope="module")
def held_out(records) -> LabeledData:
    """Fixtures the small model was not trained on (it saw every third one)."""
    return _data(records[1::3][:240])


@pytest.fixture()
def figure(small_model, held_out):
    plt = _pyplot()
    fig = _report_figure(evaluate(small_model, held_out), small_model, held_out)
    yield fig
    plt.close(fig)


def _gid(ax, gid: str):
    (line,) = [line for line in ax.get_lines() if line.get_gid() == gid]
    return line


def _panels(fig) -> list:
    return fig.axes[1:]


def test_one_panel_per_theme_after_the_f1_overview(figure, small_model):
    labels = [str(c) for c in small_model.classes_]
    bars, *panels = figure.axes
    assert [t.get_text() for t in bars.get_yticklabels()] == labels
    assert len(panels) == len(labels) == 12
    assert [ax.get_title().split("\n")[0] for ax in panels] == labels
    assert len({ax.get_subplotspec().get_geometry()[2:] for ax in panels}) == 12  # 12 distinct grid cells


@pytest.fixture(scope="module")
def retuned_model(small_model):
    """The small model with its about-thresholds moved apart from the classifier's (all 0.5), as
    cross-validation moves them: ``predict`` uses ``model.thresholds_``, not ``classifier_.thresholds_``."""
    model = copy.deepcopy(small_model)
    model.passages_.about_thresholds_ = np.linspace(0.2, 0.8, len(model.classes_))
    return model


def test_threshold_marker_is_the_models_operating_point(retuned_model, held_out):
    model, data = retuned_model, held_out
    result = evaluate(model, data)
    labels = [str(c) for c in model.classes_]
    Y = _label_matrix(data.labels, labels).astype(bool)
    P = model.predict(data.texts).astype(bool)
    assert (P != (model.predict_proba(data.texts) >= model.classifier_.thresholds_)).any()  # the test can tell
    plt = _pyplot()
    fig = _report_figure(result, model, data)
    try:
        for j, ax in enumerate(_panels(fig)):
            marker = _gid(ax, THRESHOLD_GID)
            recall = (Y[:, j] & P[:, j]).sum() / Y[:, j].sum()
            precision = (Y[:, j] & P[:, j]).sum() / P[:, j].sum()
            assert marker.get_xdata()[0] == pytest.approx(recall)
            assert marker.get_ydata()[0] == pytest.approx(precision)
            assert result.report["labels"][labels[j]]["recall"] == pytest.approx(recall, abs=1e-4)
            assert f"threshold {model.thresholds_[j]:.2f}: precision {precision:.2f}" in ax.get_title()
    finally:
        plt.close(fig)


def test_marker_lies_on_the_drawn_curve(figure):
    for ax in _panels(figure):
        curve, marker = _gid(ax, CURVE_GID), _gid(ax, THRESHOLD_GID)
        points = np.c_[curve.get_xdata(), curve.get_ydata()]
        assert np.isclose(points, [marker.get_xdata()[0], marker.get_ydata()[0]]).all(axis=1).any()


def test_axes_are_zoomed_to_each_curve(figure):
    zoomed = 0
    for ax in _panels(figure):
        curve = _gid(ax, CURVE_GID)
        recall, precision = np.asarray(curve.get_xdata()), np.asarray(curve.get_ydata())
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        assert y0 <= precision.min() and y1 >= precision.max()  # every precision is in view
        assert y1 - y0 <= 1.15 * max(np.ptp(precision), 0.1)  # the curve's span with a margin, not 0..1
        assert x0 <= recall[-1] <= x1
        zoomed += y0 > 0.05 and x0 > 0.05
    assert zoomed >= 3  # these curves do not reach low precision: most panels are not 0..1


def test_panel_zoom_on_a_curve_above_0_7():
    plt = _pyplot()
    fig, ax = plt.subplots()
    try:
        recall = np.array([0.1, 0.5, 0.6, 0.8, 1.0])
        precision = np.array([1.0, 1.0, 0.9, 0.85, 0.7])
        _draw_panel(ax, _Theme("drones", recall, precision, 0.4, (0.8, 0.85), 20, 25), 0.82)
        assert 0.6 < ax.get_ylim()[0] < 0.7 and ax.get_ylim()[1] <= 1.02
        assert 0.4 < ax.get_xlim()[0] < 0.5  # from the end of the flat start (recall 0.5)
    finally:
        plt.close(fig)


def test_pr_curve_one_point_per_distinct_score_down_to_the_threshold():
    truth = np.array([True, False, True, False, True, False])
    scores = np.array([0.9, 0.7, 0.7, 0.6, 0.3, 0.2])
    recall, precision = _pr_curve(truth, scores, floor=0.5)
    assert recall.tolist() == pytest.approx([1 / 3, 2 / 3, 2 / 3, 1.0])  # the tie at 0.7 is one cut
    assert precision.tolist() == pytest.approx([1.0, 2 / 3, 2 / 4, 3 / 5])
    recall, _ = _pr_curve(truth, scores, floor=0.1)  # below full recall: down to the threshold
    assert len(recall) == 5


def test_theme_without_labeled_article_gets_an_empty_panel(small_model, held_out):
    keep = [i for i, labels in enumerate(held_out.labels) if "drones" not in labels]
    data = _data([{"id": held_out.ids[i], "text": held_out.texts[i], "labels": held_out.labels[i]} for i in keep])
    plt = _pyplot()
    fig = _report_figure(evaluate(small_model, data), small_model, data)
    try:
        (panel,) = [ax for ax in _panels(fig) if ax.get_title().startswith("drones")]
        assert not panel.get_lines()
        assert "no labeled article" in [t.get_text() for t in panel.texts]
    finally:
        plt.close(fig)


def test_plot_report_writes_a_png_and_closes_the_figure(small_model, held_out, tmp_path):
    plt = _pyplot()
    before = plt.get_fignums()
    path = tmp_path / "report.png"
    plot_report(evaluate(small_model, held_out), small_model, held_out, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == before


def test_missing_matplotlib_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ArabicTopicsError, match=r"pip install matplotlib .*\.\[plot\]"):
        _pyplot()
