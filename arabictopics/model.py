"""The multi-label theme model.

:class:`ThemeClassifier` learns one logistic regression per theme on a
feature matrix and a decision threshold per theme from cross-validated
predictions.  :class:`TopicModel` chains the preprocessor, the TF-IDF
vectorizer and the classifier, takes raw articles and label sets, and
answers with :class:`Classification` records.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._base import BaseEstimator, ClassifierMixin, check_is_fitted, check_state_array, check_state_int, clone
from ._sparse import Rows
from .exceptions import DataError
from .features import DEFAULT_MAX_CHARS, ArabicPreprocessor, check_texts, make_vectorizer
from .metrics import best_f1_threshold
from .passages import (
    PassageLayer,
    PassageRows,
    Passages,
    PassageScores,
    best_sentences,
    clean_sentences,
    decide,
    passage_rows,
    segment,
    signals,
    split_levels,
)

__all__ = ["Classification", "ThemeClassifier", "TopicModel", "iterative_folds"]


# --------------------------------------------------------------------------
# folds
# --------------------------------------------------------------------------


def iterative_folds(Y: np.ndarray, n_splits: int, random_state: int | None = None) -> list[np.ndarray]:
    """Split rows of a 0/1 label matrix into folds by iterative stratification.

    Sechidis, Tsoumakas and Vlahavas (2011): the rarest label is dealt out
    first, each of its rows to the fold that most lacks that label, so rare
    themes land in every fold.  Rows with no label are dealt out last.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_labels)
        0/1 label indicator matrix.
    n_splits : int
        Number of folds (at least 2).
    random_state : int or None
        Seed for tie-breaking; the same seed gives the same folds.

    Returns
    -------
    list of ndarray
        ``n_splits`` arrays of row indices (the test rows of each fold).

    Examples
    --------
    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 1], [0, 0]])
    >>> folds = iterative_folds(Y, 2, random_state=0)
    >>> sorted(np.concatenate(folds).tolist())
    [0, 1, 2, 3, 4, 5]
    >>> all(Y[f].sum(axis=0).min() > 0 for f in folds)
    True
    """
    Y = np.asarray(Y, dtype=bool)
    n, k = Y.shape
    rng = np.random.default_rng(random_state)
    ratios = np.full(n_splits, 1.0 / n_splits)
    want_rows = ratios * n
    want_label = np.outer(ratios, Y.sum(axis=0)).astype(float)
    assigned = np.full(n, -1)
    remaining = np.ones(n, dtype=bool)
    while remaining.any():
        counts = Y[remaining].sum(axis=0)
        if counts.sum() == 0:
            rows = np.flatnonzero(remaining)
            rng.shuffle(rows)
            for row in rows:
                fold = _pick(want_rows, rng)
                assigned[row] = fold
                want_rows[fold] -= 1
            break
        label = int(np.flatnonzero(counts == counts[counts > 0].min())[0]) if (counts > 0).any() else 0
        rows = np.flatnonzero(remaining & Y[:, label])
        rng.shuffle(rows)
        for row in rows:
            fold = _pick(want_label[:, label], rng, tie=want_rows)
            assigned[row] = fold
            remaining[row] = False
            want_rows[fold] -= 1
            want_label[fold] -= Y[row]
    return [np.flatnonzero(assigned == f) for f in range(n_splits)]


def _pick(need: np.ndarray, rng: np.random.Generator, tie: np.ndarray | None = None) -> int:
    best = np.flatnonzero(need == need.max())
    if tie is not None and len(best) > 1:
        sub = tie[best]
        best = best[sub == sub.max()]
    return int(rng.choice(best))


# --------------------------------------------------------------------------
# ThemeClassifier
# --------------------------------------------------------------------------


def _progress_bar(show: bool, total: int):
    if not show:
        return None
    import sys

    from tqdm import tqdm

    return tqdm(total=total, desc="train", unit=" fit", file=sys.stderr, leave=False)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


class ThemeClassifier(ClassifierMixin, BaseEstimator):
    """One logistic regression per theme with a tuned threshold per theme.

    Multi-label: ``y`` is a 0/1 indicator matrix, one column per theme.
    ``fit`` learns a binary :class:`~sklearn.linear_model.LogisticRegression`
    for each column, keeps only its weights (``coef_``, ``intercept_``:
    prediction is one matrix product), and sets ``thresholds_[j]`` to the
    probability cut that maximises F1 of theme ``j`` on out-of-fold
    predictions (folds by :func:`iterative_folds`), clipped to
    ``threshold_range``.

    Parameters
    ----------
    C : float, default=10.0
        Inverse regularisation strength.
    class_weight : {"balanced"} or None, default="balanced"
        Re-weights the rare positive class of each theme.
    cv : int, default=5
        Folds for threshold tuning; ``cv < 2`` keeps every threshold at 0.5.
    threshold_range : tuple of float, default=(0.2, 0.8)
        Lowest and highest threshold allowed.
    random_state : int or None, default=None
        Seed of the folds and the solver.
    verbose : bool, default=False
        Show a progress bar (tqdm, on stderr) over the folds and the final fit.

    Attributes
    ----------
    coef_ : ndarray of shape (n_themes, n_features)
    intercept_ : ndarray of shape (n_themes,)
    thresholds_ : ndarray of shape (n_themes,)
    oof_proba_ : ndarray of shape (n_samples, n_themes) or None
        Out-of-fold probabilities of the training rows (``None`` when
        ``cv < 2``); used for the training report.
    fold_coef_ : ndarray of shape (cv, n_themes, n_features) or None
        Weights of the models fitted on each cross-validation fold's
        training rows, as float16 (``None`` when ``cv < 2``): a committee
        whose disagreement points at articles worth labeling.
    fold_intercept_ : ndarray of shape (cv, n_themes) or None
    folds_ : list of ndarray or None
        The test rows of each cross-validation fold (``None`` when ``cv < 2``).
    n_features_in_ : int

    Examples
    --------
    >>> X = np.array([[1.0, 0], [0.9, 0.1], [0, 1.0], [0.1, 0.9]] * 3)
    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]] * 3)
    >>> clf = ThemeClassifier(cv=2, random_state=0).fit(X, Y)
    >>> clf.predict(np.array([[1.0, 0.0]])).tolist()
    [[1, 0]]
    """

    def __init__(
        self,
        *,
        C: float = 10.0,
        class_weight: str | None = "balanced",
        cv: int = 5,
        threshold_range: tuple[float, float] = (0.2, 0.8),
        random_state: int | None = None,
        verbose: bool = False,
    ):
        self.C = C
        self.class_weight = class_weight
        self.cv = cv
        self.threshold_range = threshold_range
        self.random_state = random_state
        self.verbose = verbose

    _state_attributes = (
        "n_features_in_",
        "classes_",
        "thresholds_",
        "coef_",
        "intercept_",
        "oof_proba_",
        "fold_coef_",
        "fold_intercept_",
        "folds_",
    )

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "coef_" in state and "classes_" not in state:  # pickled by arabictopics < 0.3
            state = {**state, "classes_": [np.array([0, 1])] * len(state["coef_"])}
        super().__setstate__(state)

    def _check_state(self) -> None:
        n_features = check_state_int(self.n_features_in_, "n_features_in_", 1)
        coef = check_state_array(self.coef_, "coef_", (None, n_features))
        n_themes = coef.shape[0]
        check_state_array(self.intercept_, "intercept_", (n_themes,))
        check_state_array(self.thresholds_, "thresholds_", (n_themes,))
        if not isinstance(self.classes_, list) or len(self.classes_) != n_themes:
            raise ValueError("classes_ must be a list of one array per theme")
        for classes in self.classes_:
            check_state_array(classes, "classes_[j]", (2,), "i")
        if self.fold_coef_ is None:
            if self.fold_intercept_ is not None or self.folds_ is not None:
                raise ValueError("fold_intercept_ and folds_ go with fold_coef_")
        else:
            n_folds = check_state_array(self.fold_coef_, "fold_coef_", (None, n_themes, n_features)).shape[0]
            check_state_array(self.fold_intercept_, "fold_intercept_", (n_folds, n_themes))
            if not isinstance(self.folds_, list) or len(self.folds_) != n_folds:
                raise ValueError("folds_ must be a list of one array per fold")
            for rows in self.folds_:
                check_state_array(rows, "folds_[k]", (None,), "i")
        if self.oof_proba_ is not None:
            check_state_array(self.oof_proba_, "oof_proba_", (None, n_themes))

    def _fit_weights(self, X: Any, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.linear_model import LogisticRegression  # imported when fitting only

        n_features = X.shape[1]
        coef = np.zeros((Y.shape[1], n_features))
        intercept = np.zeros(Y.shape[1])
        for j in range(Y.shape[1]):
            column = Y[:, j]
            if column.min() == column.max():
                intercept[j] = 50.0 if column[0] else -50.0
                continue
            lr = LogisticRegression(
                C=self.C,
                class_weight=self.class_weight,
                solver="liblinear",
                random_state=self.random_state,
            ).fit(X, column)
            coef[j] = lr.coef_[0]
            intercept[j] = lr.intercept_[0]
        return coef, intercept

    def fit(self, X: Any, y: Any) -> ThemeClassifier:
        """Learn weights and thresholds.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_themes)
            0/1 indicator matrix.

        Returns
        -------
        self
        """
        from sklearn.utils.validation import check_X_y

        X, Y = check_X_y(X, y, accept_sparse="csr", multi_output=True, dtype=np.float64)
        if X.shape[0] < 2:
            raise ValueError(f"n_samples={X.shape[0]}: ThemeClassifier needs at least 2 samples (1 sample given).")
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if not np.isin(Y, (0, 1)).all():
            raise ValueError("y must be a 0/1 indicator matrix of shape (n_samples, n_themes).")
        Y = Y.astype(np.int8)
        for j in np.flatnonzero(Y.min(axis=0) == Y.max(axis=0)):
            warnings.warn(
                f"Label {j} is {'present in all' if Y[0, j] else 'absent from all'} training examples; "
                "it gets a constant prediction.",
                UserWarning,
                stacklevel=2,
            )
        self.n_features_in_ = X.shape[1]
        self.classes_ = [np.array([0, 1])] * Y.shape[1]  # scikit-learn's multi-output convention
        low, high = self.threshold_range
        self.thresholds_ = np.full(Y.shape[1], 0.5)
        self.oof_proba_ = self.fold_coef_ = self.fold_intercept_ = self.folds_ = None
        bar = _progress_bar(self.verbose, (self.cv if self.cv >= 2 else 0) + 1)
        if self.cv >= 2:
            oof = np.zeros(Y.shape, dtype=float)
            fold_coef, fold_intercept = [], []
            folds = iterative_folds(Y, self.cv, self.random_state)
            for k, test in enumerate(folds, 1):
                if bar is not None:
                    bar.set_description(f"fold {k}/{self.cv}")
                train = np.setdiff1d(np.arange(len(Y)), test)
                coef, intercept = self._fit_weights(X[train], Y[train])
                oof[test] = _sigmoid(X[test] @ coef.T + intercept)
                fold_coef.append(coef.astype(np.float16))
                fold_intercept.append(intercept.astype(np.float16))
                if bar is not None:
                    bar.update()
            self.oof_proba_ = oof
            self.folds_ = folds
            self.fold_coef_ = np.stack(fold_coef)
            self.fold_intercept_ = np.stack(fold_intercept)
            self.thresholds_ = np.array(
                [np.clip(best_f1_threshold(Y[:, j], oof[:, j]), low, high) for j in range(Y.shape[1])]
            )
        if bar is not None:
            bar.set_description("final fit")
        self.coef_, self.intercept_ = self._fit_weights(X, Y)
        if bar is not None:
            bar.update()
            bar.close()
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Per-theme log-odds, shape (n_samples, n_themes)."""
        check_is_fitted(self, "coef_")
        data = X.data if hasattr(X, "tocsr") or isinstance(X, Rows) else np.asarray(X)
        if not np.isfinite(data).all():
            raise ValueError("Input X contains NaN or infinity; give finite feature values.")
        if X.shape[-1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[-1]} features, but ThemeClassifier is expecting {self.n_features_in_}.")
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Per-theme probabilities in [0, 1], shape (n_samples, n_themes)."""
        return _sigmoid(self.decision_function(X))

    def predict(self, X: Any) -> np.ndarray:
        """0/1 indicator matrix: probability at or above each theme's threshold."""
        return (self.predict_proba(X) >= self.thresholds_).astype(int)

    def fold_decision_function(self, X: Any, k: int) -> np.ndarray:
        """Per-theme log-odds from the model of cross-validation fold ``k``."""
        coef, intercept = self.fold_coef_[k], self.fold_intercept_[k]
        return np.asarray(X @ coef.T.astype(np.float64)) + intercept.astype(np.float64)

    def fold_proba(self, X: Any) -> np.ndarray:
        """Probabilities from each cross-validation fold's model.

        Returns
        -------
        ndarray of shape (cv, n_samples, n_themes)
            Raises :class:`ValueError` when the classifier was fitted with
            ``cv < 2`` (no fold models).
        """
        check_is_fitted(self, "coef_")
        if getattr(self, "fold_coef_", None) is None:
            raise ValueError("this classifier has no fold models (it was fitted with cv < 2).")
        return np.stack([_sigmoid(self.fold_decision_function(X, k)) for k in range(len(self.fold_coef_))])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_label = True
        tags.input_tags.sparse = True
        return tags


# --------------------------------------------------------------------------
# TopicModel
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Classification:
    """The themes of one article, on two levels.

    Attributes
    ----------
    labels : tuple of str
        Themes the article is about, at or above their threshold, highest
        score first.
    scores : dict of str to float
        Every theme's about-probability, in the model's theme order.
    truncated : bool
        True when the article was longer than the model's ``max_chars`` and
        only its beginning was read.
    mentions : dict of str to str
        Themes the article names without being about them, best first, each
        with the sentence that names it.  Never a theme of ``labels``.
    evidence : dict of str to str
        For each label, the sentence that shows it best.

    Sentences are quoted from the article as written (HTML removed), and
    never from its boilerplate (read-also tails, tag lists, share lines).
    """

    labels: tuple[str, ...]
    scores: dict[str, float] = field(repr=False)
    truncated: bool = False
    mentions: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"labels", "scores", "mentions", "evidence"}``
        (and ``"truncated": true`` when it applies)."""
        out: dict[str, Any] = {
            "labels": list(self.labels),
            "scores": self.scores,
            "mentions": dict(self.mentions),
            "evidence": dict(self.evidence),
        }
        if self.truncated:
            out["truncated"] = True
        return out


def _label_matrix(label_sets: Sequence[Iterable[str]], labels: Sequence[str]) -> np.ndarray:
    index = {label: j for j, label in enumerate(labels)}
    Y = np.zeros((len(label_sets), len(labels)), dtype=np.int8)
    for i, row in enumerate(label_sets):
        if isinstance(row, str):
            raise DataError(f"labels of document {i} must be a list of theme names, got the string {row!r}.")
        for label in row:
            j = index.get(label)
            if j is not None:
                Y[i, j] = 1
    return Y


def _join_sentences(sentences: Sequence[str], n_sentences: np.ndarray) -> list[str]:
    """Each article's cleaned sentences, joined back into one text."""
    out, start = [], 0
    for n in n_sentences:
        out.append(" ".join(sentences[start : start + n]))
        start += n
    return out


def _log_odds(classifier: Any, X: Rows) -> np.ndarray:
    if isinstance(classifier, ThemeClassifier):
        return classifier.decision_function(X)
    p = np.clip(np.asarray(classifier.predict_proba(X.to_scipy()), dtype=float), 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


@dataclass
class _Answer:
    """Everything the model computes for a batch of articles."""

    passages: list[Passages]
    rows: PassageRows
    about: np.ndarray
    found: np.ndarray
    scores: PassageScores
    empty: np.ndarray  # log-odds of an empty text

    @property
    def articles(self) -> Rows:
        """The article-level feature rows (weighed on first use)."""
        return self.rows.articles


class TopicModel(BaseEstimator):
    """Raw Arabic articles in, themes out, on two levels.

    ``preprocessor`` -> ``vectorizer`` -> ``classifier`` -> ``passages``;
    each default is built when ``fit`` runs (scikit-learn style:
    ``__init__`` stores only).  The classifier scores the article, every
    window of consecutive sentences and every sentence; the passage layer
    (:class:`~arabictopics.passages.PassageLayer`) turns those scores into
    the themes the article is *about* (``labels``) and the themes it only
    *names* (``mentions``), each with its evidence sentence.

    Parameters
    ----------
    preprocessor : transformer or None, default=None
        Text cleaner; ``None`` means :class:`ArabicPreprocessor`.  Applied
        to each sentence.
    vectorizer : transformer or None, default=None
        Text to features; ``None`` means :func:`make_vectorizer`.
    classifier : estimator or None, default=None
        Multi-label classifier with ``predict_proba`` and ``thresholds_``;
        ``None`` means :class:`ThemeClassifier` seeded with ``random_state``.
    passages : PassageLayer or None, default=None
        ``None`` means :class:`~arabictopics.passages.PassageLayer`.
    random_state : int or None, default=None
        Seed passed to the default classifier.

    Attributes
    ----------
    classes_ : ndarray of str
        Theme labels, in column order.
    thresholds_ : ndarray of float
        About-threshold per theme.
    preprocessor_, vectorizer_, classifier_, passages_ : fitted steps.

    Examples
    --------
    >>> texts = ["ضبط شحنة كبتاغون", "ضبط حبوب كبتاغون مهربة", "مباراة كرة القدم", "فوز الفريق بالمباراة"]
    >>> m = TopicModel(classifier=ThemeClassifier(cv=0)).fit(texts, [["drugs"], ["drugs"], [], []])
    >>> m.classes_.tolist()
    ['drugs']
    >>> r = m.classify("ضبط كبتاغون. وفاز الفريق.")
    >>> r.labels, r.evidence
    (('drugs',), {'drugs': 'ضبط كبتاغون.'})
    """

    def __init__(self, *, preprocessor=None, vectorizer=None, classifier=None, passages=None, random_state=None):
        self.preprocessor = preprocessor
        self.vectorizer = vectorizer
        self.classifier = classifier
        self.passages = passages
        self.random_state = random_state

    _state_attributes = ("preprocessor_", "vectorizer_", "classifier_", "passages_", "classes_")

    def _check_state(self) -> None:
        missing = [name for name in self._state_attributes if not hasattr(self, name)]
        if missing:
            raise ValueError(f"a fitted TopicModel has {', '.join(missing)}")
        labels = self.classes_
        if (
            not isinstance(labels, np.ndarray)
            or labels.ndim != 1
            or not all(isinstance(label, str) for label in labels)
            or len(set(labels)) != len(labels)
        ):
            raise ValueError("classes_ must be an array of distinct theme names")
        if not isinstance(self.passages_, PassageLayer) or self.passages_.about_coef_.shape[0] != len(labels):
            raise ValueError("passages_ must be a PassageLayer with one row per theme")
        coef = getattr(self.classifier_, "coef_", None)
        if coef is None and not isinstance(self.classifier_, ThemeClassifier):
            return  # a classifier of the user's own, saved with allow_pickle=True
        if not isinstance(coef, np.ndarray) or coef.shape[0] != len(labels):
            raise ValueError("classifier_ must have one row of coef_ per theme")
        names = getattr(self.vectorizer_, "get_feature_names_out", None)
        if names is not None and len(names()) != coef.shape[1]:
            raise ValueError(f"vectorizer_ makes {len(names())} features, classifier_ expects {coef.shape[1]}")

    def fit(
        self,
        X: Iterable[str],
        y: Sequence[Iterable[str]],
        *,
        labels: Sequence[str] | None = None,
        mentions: Sequence[Iterable[str] | None] | None = None,
    ) -> TopicModel:
        """Fit on articles, their label sets and, optionally, their mentions.

        Parameters
        ----------
        X : iterable of str
            Raw articles.
        y : sequence of iterables of str, or 0/1 matrix of shape (n_documents, n_themes)
            The themes each article is about (possibly empty); an indicator
            matrix's columns are named by ``labels``.
        labels : sequence of str, optional
            Theme names and their order.  Defaults to the default taxonomy's
            order when every label belongs to it, else sorted.
        mentions : sequence of (iterable of str or None), optional
            The themes each article names without being about them; ``None``
            for an article whose mentions were not labeled.  Without any,
            a theme is named when its best sentence alone reaches the
            article-level threshold.

        Returns
        -------
        self
        """
        texts = check_texts(X)
        if _is_indicator(y):  # a 0/1 matrix, columns named by `labels` (else "0", "1", ...)
            Y_in = _indicator_array(y)
            labels = list(labels) if labels is not None else [str(j) for j in range(Y_in.shape[1])]
            label_sets = [[labels[j] for j in np.flatnonzero(row)] for row in Y_in]
        else:
            label_sets = [list(row) if not isinstance(row, str) else row for row in y]
        if len(label_sets) != len(texts):
            raise DataError(f"{len(texts)} documents but {len(label_sets)} label sets.")
        if mentions is not None and len(mentions) != len(texts):
            raise DataError(f"{len(texts)} documents but {len(mentions)} mention sets.")
        if labels is None:
            labels = _default_label_order({lab for row in label_sets if not isinstance(row, str) for lab in row})
        if not labels:
            raise DataError("no labels to learn: every document has an empty label set.")
        Y = _label_matrix(label_sets, labels)
        self.preprocessor_ = clone(self.preprocessor) if self.preprocessor is not None else ArabicPreprocessor()
        self.vectorizer_ = clone(self.vectorizer) if self.vectorizer is not None else make_vectorizer()
        if self.classifier is not None:
            self.classifier_ = clone(self.classifier)
        else:
            self.classifier_ = ThemeClassifier(random_state=self.random_state)
        self.passages_ = clone(self.passages) if self.passages is not None else PassageLayer()
        self.preprocessor_.fit(texts)
        segments = [segment(text, self.max_chars) for text in texts]
        sentences = clean_sentences(self.preprocessor_, segments)
        n_sentences = np.array([len(p.spans) for p in segments], dtype=np.int64)
        self.vectorizer_.fit(_join_sentences(sentences, n_sentences))
        rows = passage_rows(self.vectorizer_, sentences, n_sentences, self.passages_.window, self.passages_.min_terms)
        articles, windows, sents = (M.to_scipy() for M in (rows.articles, rows.windows, rows.sentences))
        phrases, layout = rows.phrases, rows.layout
        self.classifier_.fit(articles, Y)
        self.classes_ = np.asarray(labels, dtype=object)
        folds = getattr(self.classifier_, "folds_", None)
        cutoffs = _logit(self.classifier_.thresholds_)
        if folds is None:
            self.passages_.fit_rule(self.classifier_.thresholds_, self._oof_article_proba())
            return self
        oof = [np.zeros((M.shape[0], len(labels))) for M in (articles, windows, sents)]
        owner = [
            np.arange(len(texts)),
            np.repeat(np.arange(len(texts)), layout.n_windows),
            np.repeat(np.arange(len(texts)), n_sentences),
        ]
        fold_of = np.empty(len(texts), dtype=np.int64)
        for k, test in enumerate(folds):
            fold_of[test] = k
        for k in range(len(folds)):
            for z, M, rows_owner in zip(oof, (articles, windows, sents), owner):
                rows = np.flatnonzero(fold_of[rows_owner] == k)
                if len(rows):
                    z[rows] = self.classifier_.fold_decision_function(M[rows], k)
        scores = PassageScores(oof[0], oof[1], oof[2], self._hits(phrases, len(sentences)), layout)
        F = signals(scores, cutoffs, self.classifier_.intercept_)
        Y_found = known = None
        if mentions is not None:
            known = np.array([row is not None for row in mentions])
            if known.any():
                M = _label_matrix([row if row is not None else [] for row in mentions], labels)
                Y_found = (Y | M).astype(np.int8)
        self.passages_.fit(F, Y, Y_found, known, folds)
        return self

    # Default steps are built in ``fit`` (``__init__`` stores only), but they are reachable as
    # parameters: ``TopicModel().set_params(classifier__C=1.0)`` and ``GridSearchCV`` over them work.
    def _default_step(self, name: str) -> Any:
        return {
            "preprocessor": ArabicPreprocessor,
            "vectorizer": make_vectorizer,
            "classifier": lambda: ThemeClassifier(random_state=self.random_state),
            "passages": PassageLayer,
        }[name]()

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters, and with ``deep`` those of every step, the default ones included."""
        out = super().get_params(deep=False)
        if deep:
            for name in ("preprocessor", "vectorizer", "classifier", "passages"):
                step = out[name] if out[name] is not None else self._default_step(name)
                out.update({f"{name}__{key}": value for key, value in step.get_params(deep=True).items()})
        return out

    def set_params(self, **params: Any) -> TopicModel:
        """Set parameters; ``step__param`` on a default step first makes it explicit."""
        for key in params:
            name = key.split("__", 1)[0]
            if "__" in key and name in ("preprocessor", "vectorizer", "classifier", "passages"):
                if getattr(self, name) is None:
                    setattr(self, name, self._default_step(name))
        return super().set_params(**params)

    def score(self, X: Iterable[str], y: Any) -> float:
        """Micro-averaged F1 of the themes the articles are about (labels).

        ``y``: label sets (or a 0/1 matrix in ``classes_`` order), as for
        :meth:`fit`; what ``GridSearchCV`` and ``cross_val_score`` use when
        no ``scoring`` is given.
        """
        from .metrics import label_report

        labels = [str(c) for c in self.classes_]
        truth = _indicator_array(y) if _is_indicator(y) else _label_matrix(list(y), labels)
        return float(label_report(truth, self.predict(X), labels)["micro_f1"])

    def _oof_article_proba(self) -> np.ndarray | None:
        return getattr(self.classifier_, "oof_proba_", None)

    def _hits(self, phrases: Any, n_sentences: int) -> np.ndarray:
        """Which sentences hold one of each theme's key phrases (n_sentences, n_themes)."""
        hits = np.zeros((n_sentences, len(self.classes_)), dtype=bool)
        names = getattr(getattr(self.vectorizer_, "keyphrases_", None), "names_", None)
        if phrases is None or names is None:
            return hits
        theme_of = np.full(len(names), -1, dtype=np.int64)  # phrase column -> theme (-1: none)
        index = {str(label): j for j, label in enumerate(self.classes_)}
        for k, name in enumerate(names):
            theme_of[k] = index.get(name, -1)
        themes = theme_of[phrases.indices]
        keep = (themes >= 0) & (phrases.data != 0)
        hits[phrases.row_ids()[keep], themes[keep]] = True
        return hits

    @property
    def thresholds_(self) -> np.ndarray:
        """About-threshold per theme (the passage layer's)."""
        return self.passages_.about_thresholds_

    @property
    def max_chars(self) -> int | None:
        """Longest input read per article (see :class:`ArabicPreprocessor`)."""
        return getattr(self.preprocessor_, "max_chars", DEFAULT_MAX_CHARS)

    def _segments(self, texts: list[str]) -> tuple[list[Passages], list[str], np.ndarray]:
        segments = [segment(text, self.max_chars) for text in texts]
        sentences = clean_sentences(self.preprocessor_, segments)
        return segments, sentences, np.array([len(p.spans) for p in segments], dtype=np.int64)

    def transform(self, X: Iterable[str]) -> Any:
        """Article-level feature matrix of raw articles."""
        check_is_fitted(self, "classes_")
        _, sentences, n_sentences = self._segments(check_texts(X))
        return self.vectorizer_.transform(_join_sentences(sentences, n_sentences))

    def _answer(self, texts: list[str]) -> _Answer:
        check_is_fitted(self, "classes_")
        segments, sentences, n_sentences = self._segments(texts)
        rows = passage_rows(self.vectorizer_, sentences, n_sentences, self.passages_.window, self.passages_.min_terms)
        clf = self.classifier_
        if isinstance(clf, ThemeClassifier) and rows.counted:
            stacked = rows.scores(clf.coef_, clf.intercept_)
        else:
            stacked = _log_odds(clf, rows.stacked)
        empty = _log_odds(clf, Rows.empty(1, rows.n_features))[0]  # the log-odds of an empty text
        a, w = len(texts), len(rows.layout.window_first)
        scores = PassageScores(
            stacked[:a],
            stacked[a : a + w],
            stacked[a + w :],
            self._hits(rows.phrases, len(sentences)),
            rows.layout,
        )
        F = signals(scores, _logit(clf.thresholds_), empty)
        about, found = self.passages_.predict_proba(F, _logit(clf.thresholds_))
        return _Answer(segments, rows, about, found, scores, empty)

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        """Per-theme about-probabilities, shape (n_documents, n_themes)."""
        texts = check_texts(X)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return self._answer(texts).about

    def predict(self, X: Iterable[str]) -> np.ndarray:
        """0/1 indicator matrix of shape (n_documents, n_themes), columns in ``classes_`` order."""
        return (self.predict_proba(X) >= self.thresholds_).astype(int)

    def predict_levels(self, X: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """Both levels at once.

        Returns
        -------
        (proba, mentions)
            About-probabilities, and the 0/1 matrix of the themes each
            article names without being about them, both (n_documents,
            n_themes).
        """
        texts = check_texts(X)
        if not texts:
            empty = np.zeros((0, len(self.classes_)))
            return empty, empty.astype(int)
        answer = self._answer(texts)
        _, named = split_levels(answer.about, answer.found, self.thresholds_, self.passages_.found_thresholds_)
        return answer.about, named.astype(int)

    def classify_many(
        self, texts: Iterable[str], *, threshold: float | None = None, top: int | None = None
    ) -> list[Classification]:
        """Classify a batch of articles: one preprocessing pass, one feature
        pass and one matrix product for the whole batch.

        Parameters
        ----------
        texts : iterable of str
        threshold : float in [0, 1] or None, default=None
            One about-threshold for every theme instead of the tuned ones
            (fastText's ``predict-prob`` threshold): a theme is a label when
            its score reaches it.  A theme it lifts into the labels leaves
            the mentions; one it drops from them may become a mention.
        top : int >= 1 or None, default=None
            Keep at most this many labels, the highest scores (fastText's
            ``k``); mentions are not affected.

        Returns
        -------
        list of Classification
            Same length and order as ``texts``.

        Examples
        --------
        >>> model = load_model()  # doctest: +SKIP
        >>> model.classify_many(texts, threshold=0.3, top=2)  # doctest: +SKIP
        """
        about_cut = self._about_cut(threshold)
        if top is not None and (isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1):
            raise ValueError(f"top must be a whole number of at least 1, got {top!r}.")
        texts = check_texts(texts)
        if not texts:
            return []
        answer = self._answer(texts)
        labels = [str(c) for c in self.classes_]
        decisions = decide(answer.about, answer.found, about_cut, self.passages_.found_thresholds_)
        best = best_sentences(answer.scores)
        limit = self.max_chars
        out = []
        for i, (text, row, decision) in enumerate(zip(texts, answer.about.round(6).tolist(), decisions)):
            passages = answer.passages[i]

            def quote(j: int, i: int = i, passages: Passages = passages) -> str:
                k = best[i, j]
                return passages.sentence(k) if k >= 0 else ""

            chosen = decision.labels[:top] if top is not None else decision.labels
            out.append(
                Classification(
                    tuple(labels[j] for j in chosen),
                    dict(zip(labels, row)),
                    limit is not None and len(text) > limit,
                    {labels[j]: quote(j) for j in decision.mentions},
                    {labels[j]: quote(j) for j in chosen},
                )
            )
        return out

    def classify(self, text: str, *, threshold: float | None = None, top: int | None = None) -> Classification:
        """Classify one article.

        Parameters
        ----------
        text : str
        threshold, top
            See :meth:`classify_many`.

        Returns
        -------
        Classification
        """
        return self.classify_many([text], threshold=threshold, top=top)[0]

    def _about_cut(self, threshold: float | None) -> np.ndarray:
        """The about-threshold per theme: the tuned ones, or ``threshold`` for all."""
        check_is_fitted(self, "classes_")
        if threshold is None:
            return self.thresholds_
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)) or not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be a number from 0 to 1, got {threshold!r}.")
        return np.full(len(self.classes_), float(threshold))

    def explain(self, text: str, *, theme: str | None = None, top_terms: int = 8, top_sentences: int = 3):
        """Why the model gives ``text`` its themes; see :func:`arabictopics.explain.explain`."""
        from .explain import explain

        return explain(self, text, theme=theme, top_terms=top_terms, top_sentences=top_sentences)


def _is_indicator(y: Any) -> bool:
    """Whether ``y`` is a 0/1 indicator matrix (not label sets)."""
    if isinstance(y, np.ndarray):
        return y.ndim == 2 and y.dtype.kind in "biuf"
    return hasattr(y, "toarray") or (hasattr(y, "shape") and len(getattr(y, "shape", ())) == 2)


def _indicator_array(y: Any) -> np.ndarray:
    return np.asarray(y.toarray() if hasattr(y, "toarray") else y)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _default_label_order(seen: set[str]) -> list[str]:
    from .taxonomy import theme_labels

    canonical = theme_labels()
    if seen <= set(canonical):
        return [label for label in canonical if label in seen]
    return sorted(seen)
