"""scikit-learn's estimator conventions, without importing scikit-learn.

Scoring must not pay for importing scikit-learn (about a second), yet a
fitted model stays a scikit-learn estimator: ``get_params`` /
``set_params`` reach every step, ``clone`` works, and it fits in a
:class:`~sklearn.pipeline.Pipeline` or a ``GridSearchCV``.  The classes
here follow scikit-learn's :mod:`sklearn.base` (same parameter rules, same
tags, built lazily when scikit-learn asks for them); scikit-learn itself is
imported only to fit and when scikit-learn calls in.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np

__all__ = [
    "BaseEstimator",
    "ClassifierMixin",
    "TransformerMixin",
    "check_is_fitted",
    "check_state_array",
    "check_state_int",
    "clone",
]


class BaseEstimator:
    """Parameters from ``__init__``'s signature, stored unchanged.

    As in scikit-learn: every ``__init__`` argument is a keyword stored as
    an attribute of the same name; ``get_params(deep=True)`` adds the
    parameters of parameters that are estimators as ``step__param``.

    Examples
    --------
    >>> class Scaler(BaseEstimator):
    ...     def __init__(self, *, factor=1.0):
    ...         self.factor = factor
    >>> Scaler(factor=2.0).set_params(factor=3.0)
    Scaler(factor=3.0)
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        parameters = inspect.signature(init).parameters.values()
        names = [p.name for p in parameters if p.name != "self" and p.kind != p.VAR_KEYWORD]
        if any(p.kind == p.VAR_POSITIONAL for p in parameters):
            raise RuntimeError(f"{cls.__name__} must name its parameters in __init__ (no *args).")
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameter names mapped to their values (with ``deep``, those of sub-estimators as ``step__param``)."""
        out: dict[str, Any] = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
            out[key] = value
        return out

    def set_params(self, **params: Any) -> Any:
        """Set parameters, ``step__param`` reaching a sub-estimator; returns ``self``."""
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, delim, sub_key = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {self}. Valid parameters are: "
                    f"{self._get_param_names()!r}."
                )
            if delim:
                nested.setdefault(name, {})[sub_key] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        shown = []
        for name in self._get_param_names():
            value = getattr(self, name, None)
            default = inspect.signature(type(self).__init__).parameters[name].default
            if not _same(value, default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    #: Fitted attributes a model file stores beside the parameters (see
    #: :mod:`arabictopics.persistence`); each class lists its own.
    _state_attributes: tuple[str, ...] = ()

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The parameters and the fitted attributes: what a model file stores."""
        fitted = {name: getattr(self, name) for name in self._state_attributes if hasattr(self, name)}
        return self.get_params(deep=False), fitted

    @classmethod
    def _from_state(cls, params: dict[str, Any], fitted: dict[str, Any]) -> Any:
        """The estimator :meth:`_get_state` described, checked by :meth:`_check_state`.

        Raises ``ValueError`` or ``TypeError`` when the state does not fit
        the class: an unknown name, a wrong type, inconsistent shapes."""
        unknown = sorted(set(params) - set(cls._get_param_names())) + sorted(set(fitted) - set(cls._state_attributes))
        if unknown:
            raise ValueError(f"{cls.__name__} has no parameter or fitted attribute {', '.join(map(str, unknown))}")
        estimator = cls(**params)
        if fitted:  # an unfitted estimator (a parameter) has no state to check
            estimator.__dict__.update(fitted)
            estimator._check_state()
        return estimator

    def _check_state(self) -> None:
        """Raise ``ValueError`` when the fitted attributes contradict each other
        or the parameters.  A model file from elsewhere is trusted no further
        than these checks: what they pass must score without error and in
        bounded memory."""

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False))


def _same(value: Any, default: Any) -> bool:
    if value is default:
        return True
    if isinstance(value, np.ndarray) or isinstance(default, np.ndarray):
        return False
    try:
        return bool(value == default) and type(value) is type(default)
    except Exception:  # an object whose == is not a bool
        return False


class TransformerMixin:
    """``fit_transform``, and the transformer tag."""

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """``fit(X, y, **fit_params)``, then ``transform(X)``."""
        return self.fit(X, y, **fit_params).transform(X)  # type: ignore[attr-defined]

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.transformer_tags = TransformerTags()
        return tags


class ClassifierMixin:
    """``score`` (subset accuracy, as scikit-learn's), and the classifier tags."""

    _estimator_type = "classifier"

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Share of samples whose every label is predicted right."""
        truth = np.asarray(y.toarray() if hasattr(y, "toarray") else y)
        predicted = np.asarray(self.predict(X))  # type: ignore[attr-defined]
        right = (predicted.reshape(len(predicted), -1) == truth.reshape(len(truth), -1)).all(axis=1)
        return float(np.average(right, weights=sample_weight))

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        return tags


def clone(estimator: Any) -> Any:
    """A new unfitted estimator with the same parameters, as :func:`sklearn.base.clone`.

    Sub-estimators among the parameters are cloned too; other parameter
    values are deep-copied.  Lists, tuples and sets of estimators are
    cloned element by element.

    Examples
    --------
    >>> from arabictopics.features import ArabicPreprocessor
    >>> clone(ArabicPreprocessor(max_chars=10))
    ArabicPreprocessor(max_chars=10)
    """
    if isinstance(estimator, (list, tuple, set, frozenset)):
        return type(estimator)(clone(e) for e in estimator)
    if not hasattr(estimator, "get_params") or isinstance(estimator, type):
        return copy.deepcopy(estimator)
    if not isinstance(estimator, BaseEstimator):  # another library's estimator: its own rules
        from sklearn.base import clone as sklearn_clone

        return sklearn_clone(estimator)
    params = {name: clone(value) for name, value in estimator.get_params(deep=False).items()}
    return type(estimator)(**params)


def check_is_fitted(estimator: Any, attribute: str) -> None:
    """Raise scikit-learn's ``NotFittedError`` (or, without scikit-learn, an
    :class:`arabictopics.exceptions.NotFittedError`) when ``estimator``
    lacks the fitted ``attribute``."""
    if not hasattr(estimator, attribute):
        raise _not_fitted(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments "
            "before using this estimator."
        )


def _not_fitted(message: str) -> Exception:
    try:
        from sklearn.exceptions import NotFittedError
    except ImportError:
        from .exceptions import NotFittedError  # type: ignore[assignment]
    return NotFittedError(message)


def check_state_int(value: Any, name: str, low: int = 0, high: int = 2**31 - 1) -> int:
    """``value`` if it is an int (not a bool) within ``[low, high]``, else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an int in [{low}, {high}], got {value!r}")
    return int(value)


def check_state_array(value: Any, name: str, shape: tuple[int | None, ...], kind: str = "f") -> np.ndarray:
    """``value`` if it is an ndarray of dtype kind ``kind`` ("f" float, "i"
    int, "b" bool) and of ``shape`` (``None``: any length), finite when a
    float array; else ``ValueError``."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in (kind + "u" if kind == "i" else kind):
        raise ValueError(f"{name} must be an array of kind {kind!r}, got {type(value).__name__}")
    if value.ndim != len(shape) or any(want is not None and got != want for got, want in zip(value.shape, shape)):
        raise ValueError(f"{name} has shape {value.shape}, expected {shape}")
    if kind == "f" and not np.isfinite(value).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return value
