"""The public surface: __all__, lazy import, docs that match the code."""

from __future__ import annotations

import subprocess
import sys

import arabictopics


def test_all_names_resolve():
    for name in arabictopics.__all__:
        assert getattr(arabictopics, name) is not None, name


def test_import_is_light():
    code = "import sys, arabictopics; print('sklearn' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_module_all_consistency():
    import importlib

    for name in (
        "charsets",
        "text",
        "taxonomy",
        "features",
        "model",
        "metrics",
        "persistence",
        "dataset",
        "io",
        "scoring",
        "evaluation",
        "training",
        "explain",
        "active",
        "cli",
        "exceptions",
    ):
        module = importlib.import_module(f"arabictopics.{name}")
        for public in module.__all__:
            assert hasattr(module, public), (name, public)


def test_readme_themes_match_taxonomy():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for theme in arabictopics.load_taxonomy():
        assert f"`{theme.label}`" in readme and theme.name_ar in readme
