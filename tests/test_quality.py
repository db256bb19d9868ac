"""Model quality: train on the fixtures from a fixed seed and check cross-validated F1.

Trains a fresh model on ``fixtures/articles.jsonl`` (5-fold CV, seed 0) and
checks the out-of-fold scores.  The floor is below the shipped model's
measured figures (training/default_model_metrics.json) so that it catches a
broken preprocessing step or a labeling mistake, not noise.
"""

from __future__ import annotations

import json

from arabictopics import train
from arabictopics.taxonomy import theme_labels

from .conftest import FIXTURES, ROOT


def test_cross_validated_f1_from_fixed_seed():
    model, meta = train(FIXTURES, known_labels=theme_labels(), cv=5, random_state=0)
    report = meta["cv_metrics"]
    assert report["micro_f1"] >= 0.85, report["micro_f1"]
    assert report["macro_f1"] >= 0.80, report["macro_f1"]
    assert min(row["f1"] for row in report["labels"].values()) >= 0.6, report["labels"]
    assert report["off_topic_false_positive_rate"] <= 0.10


def test_shipped_model_matches_the_training_script(default_model):
    """The shipped model is what training/train_default.py builds from the fixtures."""
    recorded = json.loads((ROOT / "training" / "default_model_metrics.json").read_text(encoding="utf-8"))
    assert default_model.metadata_["payload_sha256"] == recorded["model"]["payload_sha256"]
    assert default_model.metadata_["training_data"]["articles"] == len(
        FIXTURES.read_text(encoding="utf-8").splitlines()
    )
