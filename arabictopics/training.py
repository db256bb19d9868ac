"""Train a model from labeled files: check the data, fit, report, save."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

from .dataset import LabeledData, check_training_data, load_labeled
from .exceptions import DataError
from .model import ThemeClassifier, TopicModel

__all__ = ["train"]


def _check_trainable(data: LabeledData, cv: int, allow_no_negatives: bool) -> tuple[list[str], list[str]]:
    errors, warnings = check_training_data(data, cv=cv, allow_no_negatives=allow_no_negatives)
    if errors:
        raise DataError("the training data cannot make a useful model:\n  " + "\n  ".join(errors))
    return data.label_names(), warnings


def train(
    data: LabeledData | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    labels: Sequence[str] | None = None,
    cv: int = 5,
    random_state: int | None = 0,
    output: str | os.PathLike[str] | None = None,
    progress: bool = False,
    allow_no_negatives: bool = False,
    **load_options: Any,
) -> tuple[TopicModel, dict[str, Any]]:
    """Fit a :class:`TopicModel` on labeled articles, report, and optionally save.

    Parameters
    ----------
    data : LabeledData or path(s)
        Labeled articles or files for :func:`arabictopics.load_labeled`.
    labels : sequence of str, optional
        Keep only these themes (others are dropped from the records).
    cv : int, default=5
        Cross-validation folds for threshold tuning and the report.
    random_state : int or None, default=0
        Seed: the same data and seed give the same model.
    output : path, optional
        Save the model here (atomically; nothing is written if training fails).
    progress : bool, default=False
        Progress bars (stderr) over the folds and the final fit.
    allow_no_negatives : bool, default=False
        Train even when every article carries a theme (the model then gives
        every article one).

    Data that cannot make a useful model (a theme on every article, too few
    examples for the folds, no article without a theme, a senseless ``cv``)
    raises :class:`~arabictopics.exceptions.DataError` naming the themes;
    doubtful data (few examples of a theme) trains, with warnings on stderr
    (:mod:`warnings`) and in the metadata's ``warnings``.
    **load_options
        Passed to :func:`arabictopics.load_labeled` (``text_column``, ...).

    Returns
    -------
    (TopicModel, dict)
        The model and its metadata (training data digest, CV report).
    """
    if not isinstance(data, LabeledData):
        data = load_labeled(data, **load_options)
    if labels is not None:
        present = data.label_names()
        absent = [label for label in labels if label not in present]
        if absent:
            raise DataError(
                f"no article carries the requested label(s) {', '.join(map(repr, absent))}; "
                f"the data has: {', '.join(present) or 'no labels'}. Check the spelling in --labels."
            )
        data.keep(labels)
    themes, doubts = _check_trainable(data, cv, allow_no_negatives)
    for doubt in doubts:
        warnings.warn(doubt, UserWarning, stacklevel=2)
    if labels is not None:
        themes = [label for label in labels if label in themes]
    classifier = ThemeClassifier(cv=cv, random_state=random_state, verbose=progress)
    model = TopicModel(classifier=classifier, random_state=random_state)
    model.fit(
        data.texts,
        data.labels,
        labels=None if labels is None else themes,
        mentions=data.mentions if data.has_mentions() else None,
    )
    metadata: dict[str, Any] = {
        "training_data": {
            "sha256": data.sha256,
            "bytes": data.n_bytes,
            "articles": len(data),
            "articles_with_mentions": sum(1 for row in data.mentions if row is not None),
        },
        "random_state": random_state,
        "cv_folds": cv,
        "warnings": doubts,
    }
    if cv >= 2:
        from .evaluation import cross_validate

        metadata["cv_metrics"] = cross_validate(model, data).to_dict()
    if output is not None:
        from .persistence import save_model

        metadata = save_model(model, output, metadata=metadata)
    return model, metadata
