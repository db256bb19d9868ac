"""The default theme taxonomy, stored as package data (``data/taxonomy.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Theme", "load_taxonomy", "theme_labels"]


@dataclass(frozen=True)
class Theme:
    """One theme of the taxonomy.

    Attributes
    ----------
    label : str
        Machine name, e.g. ``"drugs"``.
    name_en, name_ar : str
        English and Arabic display names.
    covers : str
        What the theme covers.
    excludes : str
        What it does not cover.
    """

    label: str
    name_en: str
    name_ar: str
    covers: str
    excludes: str


@lru_cache(maxsize=1)
def load_taxonomy() -> tuple[Theme, ...]:
    """Return the default themes, in their canonical order.

    Returns
    -------
    tuple of Theme

    Examples
    --------
    >>> [t.label for t in load_taxonomy()][:3]
    ['cybercrime', 'drones', 'drugs']
    >>> load_taxonomy()[2].name_ar
    'المخدرات'
    """
    raw = resources.files(__package__).joinpath("data/taxonomy.json").read_text(encoding="utf-8")
    return tuple(Theme(**theme) for theme in json.loads(raw)["themes"])


def theme_labels() -> tuple[str, ...]:
    """The default theme labels, in canonical order."""
    return tuple(theme.label for theme in load_taxonomy())
