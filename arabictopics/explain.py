"""Why an article got its themes: the terms that weighed most and the
sentences that carry each theme, shown as written in the article."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .text import analyze, clean, normalize, split_sentences, strip_boilerplate, strip_html, tokenize

__all__ = ["Explanation", "ThemeExplanation", "explain"]


@dataclass(frozen=True)
class ThemeExplanation:
    """The evidence for one theme.

    Attributes
    ----------
    theme : str
    score : float
        The theme's probability.
    predicted : bool
        Whether the score reaches the theme's threshold.
    terms : list of (str, float)
        Surface words of the article and their contribution to the log-odds.
        A pooled key-phrase feature is shown as ``"key phrases: ..."`` with
        the taxonomy phrases of that theme found in the article.
    sentences : list of str
        The one to three sentences that carry the theme, best first.
    """

    theme: str
    score: float
    predicted: bool
    terms: list[tuple[str, float]] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Explanation:
    """Per-theme evidence for one article."""

    themes: list[ThemeExplanation]

    def to_dict(self) -> dict[str, Any]:
        return {
            "themes": [
                {
                    "theme": t.theme,
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
            mark = "" if t.predicted else " (below threshold)"
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
        Explain this theme (predicted or not) instead of the predicted ones.
    top_terms : int, default=8
    top_sentences : int, default=3

    Returns
    -------
    Explanation
    """
    labels = [str(c) for c in model.classes_]
    if theme is not None and theme not in labels:
        raise ValueError(f"unknown theme {theme!r}; the model knows {', '.join(labels)}.")
    features = model.transform([text])
    proba = model.classifier_.predict_proba(features)[0]
    chosen = [labels.index(theme)] if theme else [j for j in np.argsort(-proba) if proba[j] >= model.thresholds_[j]]
    if not chosen:
        return Explanation([])
    vocabulary = model.vectorizer_.get_feature_names_out()
    readable = strip_boilerplate(strip_html(text[: model.max_chars or None]))
    forms = _surface_forms(readable)
    sentences = split_sentences(readable)
    sentence_x = model.transform(sentences) if sentences else None
    coef = model.classifier_.coef_
    row = features.tocsr()
    out = []
    for j in chosen:
        contrib = row.multiply(coef[j]).tocsr()
        idx, vals = contrib.indices, contrib.data
        order = np.argsort(-vals)[:top_terms]
        terms = [
            (
                _keyphrases_found(model, name, readable)
                if (name := str(vocabulary[idx[k]])).startswith("keyphrases:")
                else forms.get(name, name),
                float(vals[k]),
            )
            for k in order
            if vals[k] > 0
        ]
        best: list[str] = []
        if sentence_x is not None:
            scores = np.asarray(sentence_x @ coef[j]).ravel()
            best = [sentences[k] for k in np.argsort(-scores)[:top_sentences] if scores[k] > 0]
        out.append(ThemeExplanation(labels[j], float(proba[j]), bool(proba[j] >= model.thresholds_[j]), terms, best))
    return Explanation(out)
