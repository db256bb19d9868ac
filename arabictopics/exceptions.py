"""The errors arabictopics raises.  Each message says what is wrong and what to do."""

from __future__ import annotations

__all__ = ["ArabicTopicsError", "DataError", "InputError", "ModelError", "NotFittedError"]


class ArabicTopicsError(Exception):
    """Base class of every error raised on purpose by arabictopics."""


class ModelError(ArabicTopicsError, ValueError):
    """A model file is missing, damaged, altered, or from an incompatible version."""


class DataError(ArabicTopicsError, ValueError):
    """Labeled training or evaluation data is invalid (the message names file and line)."""


class InputError(ArabicTopicsError, ValueError):
    """An input to classify cannot be read or is not text."""


class NotFittedError(ArabicTopicsError, ValueError, AttributeError):
    """An estimator was used before ``fit``; raised only where scikit-learn
    is not installed (elsewhere scikit-learn's own ``NotFittedError``)."""
