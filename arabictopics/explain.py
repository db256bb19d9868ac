"""Why an article got its themes, on both levels: the terms that weighed
most, and the sentences that carry each theme, quoted as written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .passages import split_levels
from .text import analyze, clean, normalize, tokenize

__all__ = ["Explanation", "ThemeExplanation", "explain"]

#: The level of a theme in an article's answer.
LEVELS = ("about", "named", "neither")


@dataclass(frozen=True)
class ThemeExplanation:
    """The evidence for one theme.

    Attributes
    ----------
    theme : str
    score : float
        The theme's about-probability.
    predicted : bool
        Whether the article is about the theme (the score reaches its threshold).
    terms : list of (str, float)
        Surface words of the article and their contribution to the
        article-level log-odds.  A pooled key-phrase feature is shown as
        ``"key phrases: ..."`` with the taxonomy phrases of that theme found
        in the article.
    sentences : list of str
        The one to three sentences that carry the theme, best first, as
        written; the first is the evidence of a label or a mention.
    level : {"about", "named", "neither"}
        A label, a mention, or neither.
    """

    theme: str
    score: float
    predicted: bool
    terms: list[tuple[str, float]] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    level: str = "about"


@dataclass(frozen=True)
class Explanation:
    """Per-theme evidence for one article: its labels, then its mentions."""

    themes: list[ThemeExplanation]

    def to_dict(self) -> dict[str, Any]:
        return {
            "themes": [
                {
                    "theme": t.theme,
                    "level": t.level,
                    "score": round(t.score, 4),
                    "predicted": t.predicted,
                    "terms": [{"term": w, "weight": round(v, 4)} for w, v in t.terms],
                    "sentences": t.sentences,
                }
                for t in self.themes
            ]
        }

    def format(self) -> str:
        if not self.themes:
            return "no theme predicted"
        lines = []
        for t in self.themes:
            mark = {"about": "", "named": "  (named, not about: يذكر أيضاً)", "neither": " (below threshold)"}[t.level]
            lines.append(f"{t.theme}  {t.score:.2f}{mark}")
            lines.append("  terms: " + ", ".join(f"{w} ({v:+.2f})" for w, v in t.terms))
            lines.extend(f"  > {s}" for s in t.sentences)
        return "\n".join(lines)


def _surface_forms(text: str) -> dict[str, str]:
    """Feature token -> the first word of the article that produces it."""
    forms: dict[str, str] = {}
    for word in tokenize(text):
        for feature in analyze(normalize(word)):
            forms.setdefault(feature, word)
    return forms


def _keyphrases_found(model: Any, name: str, text: str) -> str:
    """The key phrases of feature ``keyphrases:<name>`` that occur in ``text``."""
    counter = getattr(model.vectorizer_, "keyphrases_", None)
    theme = name.split(":", 1)[1]
    lexicon = getattr(counter, "lexicon", None)
    if lexicon is None:
        from .taxonomy import theme_keywords

        lexicon = theme_keywords()
    tokens = analyze(clean(text))
    joined = " " + " ".join(tokens) + " "
    found = [p for p in lexicon.get(theme, ()) if (key := analyze(clean(p))) and f" {' '.join(key)} " in joined]
    return "key phrases: " + "، ".join(found[:4]) if found else name


def explain(
    model: Any, text: str, *, theme: str | None = None, top_terms: int = 8, top_sentences: int = 3
) -> Explanation:
    """Explain the themes a fitted :class:`~arabictopics.model.TopicModel` gives ``text``.

    Parameters
    ----------
    model : TopicModel
    text : str
        The raw article.
    theme : str, optional
        Explain this theme (whatever its level) instead of the article's
        labels and mentions.
    top_terms : int, default=8
    top_sentences : int, default=3

    Returns
    -------
    Explanation
        Labels first (best first), then mentions.
    """
    labels = [str(c) for c in model.classes_]
    if theme is not None and theme not in labels:
        raise ValueError(f"unknown theme {theme!r}; the model knows {', '.join(labels)}.")
    answer = model._answer([text])
    about, found = answer.about[0], answer.found[0]
    is_about, is_named = split_levels(about, found, model.thresholds_, model.passages_.found_thresholds_)
    if theme is not None:
        chosen = [labels.index(theme)]
    else:
        chosen = sorted(np.flatnonzero(is_about), key=lambda j: -about[j])
        chosen += sorted(np.flatnonzero(is_named), key=lambda j: -found[j])
    if not chosen:
        return Explanation([])
    vocabulary = model.vectorizer_.get_feature_names_out()
    passages = answer.passages[0]
    readable = "\n".join(passages.sentences())
    forms = _surface_forms(readable)
    sentence_z = answer.scores.sentences
    row = answer.articles  # one article: its stored columns and values
    coef = getattr(model.classifier_, "coef_", None)
    out = []
    for j in chosen:
        terms: list[tuple[str, float]] = []
        if coef is not None:
            idx = row.indices
            vals = row.data * np.asarray(coef[j], dtype=np.float64)[idx]
            terms = [
                (
                    _keyphrases_found(model, name, readable)
                    if (name := str(vocabulary[idx[k]])).startswith("keyphrases:")
                    else forms.get(name, name),
                    float(vals[k]),
                )
                for k in np.argsort(-vals)[:top_terms]
                if vals[k] > 0
            ]
        order = np.argsort(-sentence_z[:, j], kind="stable")[:top_sentences] if len(sentence_z) else []
        best = [passages.sentence(k) for k in order if sentence_z[k, j] > answer.empty[j]]
        level = "about" if is_about[j] else "named" if is_named[j] else "neither"
        out.append(ThemeExplanation(labels[j], float(about[j]), bool(is_about[j]), terms, best, level))
    return Explanation(out)
