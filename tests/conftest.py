from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests: "ci" (the default) keeps the suite fast; "long" is the
# fuzzing run of benchmarks/fuzz.py (HYPOTHESIS_PROFILE=long).  Tests that set
# max_examples themselves keep their own count.
_PROFILE_CHECKS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=75, deadline=None, suppress_health_check=_PROFILE_CHECKS)
settings.register_profile("long", max_examples=20_000, deadline=None, suppress_health_check=_PROFILE_CHECKS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "articles.jsonl"
SHARED = ROOT.parent / "shared"


def model_members(path: Path) -> dict[str, bytes]:
    """Every member of a model file, by name."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_model_members(path: Path, members: dict[str, bytes | str], *, resign: bool = True) -> None:
    """Write a model file from ``members``; with ``resign``, the metadata's
    checksum and size are recomputed, as a forger who rewrites the
    metadata too would do (so that loading gets past the checksum)."""
    import zipfile

    from arabictopics import persistence

    members = {name: data.encode() if isinstance(data, str) else data for name, data in members.items()}
    if resign and "metadata.json" in members:
        meta = json.loads(members["metadata.json"])
        payload = {name: data for name, data in members.items() if name != "metadata.json"}
        meta["payload_sha256"] = persistence._payload_digest(payload)
        meta["payload_bytes"] = sum(len(data) for data in payload.values())
        members["metadata.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def fixture_records() -> list[dict]:
    return [json.loads(line) for line in FIXTURES.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def records() -> list[dict]:
    return fixture_records()


def fit_on_a_third(records, cv: int):
    """A model trained on every third fixture, seed 0, ``cv`` folds (0: none)."""
    from arabictopics import ThemeClassifier, TopicModel

    subset = records[::3]
    return TopicModel(classifier=ThemeClassifier(cv=cv, random_state=0)).fit(
        [r["text"] for r in subset], [r["labels"] for r in subset]
    )


@pytest.fixture(scope="session")
def small_model(records):
    """A quick model on a slice of the fixtures (no CV), for API tests."""
    return fit_on_a_third(records, cv=0)


@pytest.fixture(scope="session")
def default_model():
    import arabictopics

    return arabictopics.load_model()
