"""Scoring needs numpy, not scikit-learn (nor SciPy): the shipped model scores in a process where
``import sklearn`` fails, exactly as it does here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import ROOT, SHARED

# Run in a child: scikit-learn made unimportable before anything else is imported.
NO_SKLEARN = """
import builtins, json, sys
real_import = builtins.__import__
def refuse(name, *args, **kwargs):
    if name == "sklearn" or name.startswith("sklearn."):
        raise ImportError("scikit-learn is blocked in this test")
    return real_import(name, *args, **kwargs)
builtins.__import__ = refuse
import arabictopics
texts = json.loads(sys.stdin.read())
model = arabictopics.load_model()
print(json.dumps({
    "records": [r.to_dict() for r in model.classify_many(texts)],
    "proba": model.predict_proba(texts).tolist(),
    "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "joblib", "scipy")),
}))
"""


def _texts() -> list[str]:
    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    texts = [path.read_text(encoding="utf-8") for path in seeds]
    return texts + [(ROOT / "examples" / "article.txt").read_text(encoding="utf-8"), "", "مباراة كرة القدم"]


def test_the_shipped_model_scores_where_scikit_learn_cannot_be_imported(default_model):
    texts = _texts()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-c", NO_SKLEARN], input=json.dumps(texts), capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["modules"] == []  # neither scikit-learn, joblib nor SciPy was imported
    assert got["records"] == [r.to_dict() for r in default_model.classify_many(texts)]
    assert got["proba"] == default_model.predict_proba(texts).tolist()


def test_the_cli_scores_where_scikit_learn_cannot_be_imported(tmp_path):
    blocker = tmp_path / "sklearn"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('scikit-learn is blocked in this test')\n")
    article = ROOT / "examples" / "article.txt"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    blocked = subprocess.run(
        [sys.executable, "-m", "arabictopics", "classify", str(article)],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
    )
    normal = subprocess.run(
        [sys.executable, "-m", "arabictopics", "classify", str(article)],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    assert blocked.returncode == 0, blocked.stderr
    assert blocked.stdout == normal.stdout and json.loads(blocked.stdout)["labels"]
    for command in (["explain", str(article)], ["suggest", "default", str(article.parent)]):
        proc = subprocess.run(
            [sys.executable, "-m", "arabictopics", *command],
            capture_output=True,
            text=True,
            env={**env, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
        )
        assert proc.returncode == 0 and proc.stdout and "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="../shared/seeds is absent")
def test_the_seeds_are_among_the_texts():
    assert len(_texts()) >= 5 + 3
