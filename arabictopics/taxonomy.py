"""The default theme taxonomy, stored as package data (``data/taxonomy.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Theme", "load_taxonomy", "theme_keywords", "theme_labels"]


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
    keywords : tuple of str
        Key phrases that name the theme unambiguously in news text, as
        written (with the article, clitics and hamza as usual); the model's
        :class:`~arabictopics.features.KeyphraseCounter` pools their counts
        into one feature per theme.
    """

    label: str
    name_en: str
    name_ar: str
    covers: str
    excludes: str
    keywords: tuple[str, ...] = ()


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
    themes = json.loads(raw)["themes"]
    return tuple(Theme(**{**theme, "keywords": tuple(theme.get("keywords", ()))}) for theme in themes)


def theme_labels() -> tuple[str, ...]:
    """The default theme labels, in canonical order."""
    return tuple(theme.label for theme in load_taxonomy())


def theme_keywords() -> dict[str, tuple[str, ...]]:
    """Each default theme's key phrases (see :class:`Theme`).

    Examples
    --------
    >>> "الجريمة المنظمة" in theme_keywords()["organized_crime"]
    True
    """
    return {theme.label: theme.keywords for theme in load_taxonomy()}
