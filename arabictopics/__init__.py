"""arabictopics: label Arabic news articles with security and public-affairs themes.

>>> import arabictopics
>>> model = arabictopics.load_model()            # doctest: +SKIP
>>> model.classify("ضبط شحنة كبتاغون في منفذ جابر")  # doctest: +SKIP

Importing the package loads nothing heavy: the names below are resolved on
first use.  Loading a model and scoring need numpy and scipy only:
scikit-learn is imported to train and to evaluate, never to score.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"

# public name -> module that defines it
_EXPORTS = {
    "ArabicTopicsError": "exceptions",
    "DataError": "exceptions",
    "ModelError": "exceptions",
    "InputError": "exceptions",
    "Theme": "taxonomy",
    "load_taxonomy": "taxonomy",
    "normalize": "text",
    "clean": "text",
    "strip_html": "text",
    "strip_boilerplate": "text",
    "strip_links": "text",
    "tokenize": "text",
    "analyze": "text",
    "light_stem": "text",
    "split_sentences": "text",
    "sentence_spans": "text",
    "article_spans": "text",
    "ArabicPreprocessor": "features",
    "make_vectorizer": "features",
    "ArabicTfidfVectorizer": "features",
    "ThemeClassifier": "model",
    "TopicModel": "model",
    "Classification": "model",
    "PassageLayer": "passages",
    "save_model": "persistence",
    "load_model": "persistence",
    "read_model_metadata": "persistence",
    "verify_model": "persistence",
    "convert_model": "persistence",
    "load_labeled": "dataset",
    "LabeledData": "dataset",
    "validate_labeled": "dataset",
    "train": "training",
    "cross_validate": "evaluation",
    "EvaluationReport": "evaluation",
    "evaluate": "evaluation",
    "suggest": "active",
    "Suggestion": "active",
}

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:  # pragma: no cover
    from .active import Suggestion, suggest
    from .dataset import LabeledData, load_labeled, validate_labeled
    from .evaluation import EvaluationReport, cross_validate, evaluate
    from .exceptions import ArabicTopicsError, DataError, InputError, ModelError
    from .features import ArabicPreprocessor, ArabicTfidfVectorizer, make_vectorizer
    from .model import Classification, ThemeClassifier, TopicModel
    from .passages import PassageLayer
    from .persistence import convert_model, load_model, read_model_metadata, save_model, verify_model
    from .taxonomy import Theme, load_taxonomy
    from .text import (
        analyze,
        article_spans,
        clean,
        light_stem,
        normalize,
        sentence_spans,
        split_sentences,
        strip_boilerplate,
        strip_html,
        strip_links,
        tokenize,
    )
    from .training import train


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'arabictopics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
