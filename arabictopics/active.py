"""Active learning: which unlabeled articles are worth labeling next.

:func:`suggest` streams unlabeled articles through a fitted
:class:`~arabictopics.model.TopicModel` and keeps the ``n`` articles whose
labels would teach the model most:

* **uncertainty** -- an article whose probability for some theme lies close
  to that theme's decision threshold is one the model cannot decide;
* **disagreement** -- when the model was trained with cross-validation
  (``cv >= 2``) its classifier keeps the model of every fold
  (``fold_coef_``); an article on which these models disagree (query by
  committee) lies where the training data is thin.

Near-duplicates are not suggested twice: an article whose TF-IDF cosine to an
article already kept exceeds ``max_similarity`` is skipped (the better-scored
of the two is kept).  The cosine is taken on the model's own TF-IDF columns
(key-phrase count columns, when the vectorizer adds them, are left out).

The input is read in chunks and only a bounded pool of candidates is kept,
so memory grows with ``n`` and ``chunk_size``, not with the input.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from .exceptions import InputError

__all__ = ["DEFAULT_MAX_SIMILARITY", "Suggestion", "committee_size", "suggest"]

#: Articles whose TF-IDF cosine to a better-scored suggestion exceeds this are skipped.
DEFAULT_MAX_SIMILARITY = 0.9
_EPS = 1e-6


@dataclass(frozen=True)
class Suggestion:
    """An unlabeled article worth labeling.

    Attributes
    ----------
    id : str
    text : str
        The article as it was read.
    suggested : tuple of str
        Themes the model predicts now, highest probability first (a starting
        point for the labeler, not a label).
    score : float
        How useful labeling it would be, in [0, 1]; higher is more useful.
    reason : str
        Short human-readable reason: the theme the model is least sure of,
        its probability against the threshold, and how the fold models voted.
    theme : str
        The theme behind ``score``.
    method : {"uncertainty", "uncertainty+committee"}
        Whether the fold models' disagreement was part of the score.
    """

    id: str
    text: str
    suggested: tuple[str, ...]
    score: float
    reason: str
    theme: str
    method: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record to label: ``{"id", "text", "labels": [],
        "suggested", "reason", "score"}``."""
        return {
            "id": self.id,
            "text": self.text,
            "labels": [],
            "suggested": list(self.suggested),
            "reason": self.reason,
            "score": round(self.score, 4),
        }


def committee_size(model: Any) -> int:
    """Number of cross-validation fold models a fitted model keeps (0 if none).

    Parameters
    ----------
    model : TopicModel

    Returns
    -------
    int
        ``cv`` for a model trained with ``cv >= 2`` by a version that stores
        fold models, else 0.
    """
    clf = getattr(model, "classifier_", None)
    coef = getattr(clf, "fold_coef_", None)
    if coef is None or not hasattr(clf, "fold_proba"):
        return 0
    return len(coef)


# --------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------


def _uncertainty(proba: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """1 at a theme's threshold, falling linearly to 0 at probability 0 or 1."""
    below = proba < thresholds
    distance = np.where(below, (thresholds - proba) / thresholds, (proba - thresholds) / (1.0 - thresholds))
    return 1.0 - np.clip(distance, 0.0, 1.0)


def _disagreement(fold: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Committee disagreement per article and theme, in [0, 1], and the votes.

    Half the vote split (1 when the fold models are evenly split on either
    side of the threshold, 0 when unanimous) plus half the spread of their
    probabilities (twice the standard deviation, capped at 1).
    """
    cv = fold.shape[0]
    yes = (fold >= thresholds).sum(axis=0)
    split = np.minimum(yes, cv - yes) / max(cv // 2, 1)
    spread = np.minimum(1.0, 2.0 * fold.std(axis=0))
    return 0.5 * split + 0.5 * spread, yes


def _reason(theme: str, p: float, threshold: float, votes: int | None, cv: int) -> str:
    side = "above" if p >= threshold else "below"
    text = f"{theme}: p {p:.3f} {side} threshold {threshold:.3f}"
    if votes is not None:
        text += f"; {votes} of {cv} fold models say {theme}"
    return text


# --------------------------------------------------------------------------
# the bounded pool of candidates
# --------------------------------------------------------------------------


@dataclass
class _Entry:
    key: tuple[float, int]  # (score, -seq): the heap's order, lowest first
    vector: Any  # 1 x n_features CSR row, L2-normalised
    suggestion: Suggestion


class _Pool:
    """The best ``n`` candidates seen so far, no two near-duplicates.

    A candidate enters when it beats the worst entry (or the pool is not
    full) and every entry it nearly duplicates; it then replaces those
    entries.  Ties go to the earlier article.
    """

    def __init__(self, n: int, max_similarity: float):
        self.n = n
        self.max_similarity = max_similarity
        self.entries: dict[int, _Entry] = {}
        self.heap: list[tuple[float, int]] = []

    def would_enter(self, key: tuple[float, int]) -> bool:
        return len(self.entries) < self.n or key > self.heap[0]

    def offer_chunk(self, keys: list[tuple[float, int]], vectors: Any, make) -> None:
        """Offer a chunk's candidates; ``make(i)`` builds the Suggestion of row ``i``."""
        order = sorted(range(len(keys)), key=keys.__getitem__, reverse=True)
        check = self.max_similarity < 1.0
        members = list(self.entries.items()) if check else []
        stacked = _vstack([entry.vector for _, entry in members]) if members else None
        added: list[tuple[int, int]] = []  # (row in chunk, seq) entered from this chunk
        for i in order:
            key = keys[i]
            if not self.would_enter(key):
                break  # the rest of the chunk scores lower still
            row = vectors[i]
            dups: list[int] = []
            if stacked is not None:
                sims = (row @ stacked.T).toarray().ravel()
                dups += [members[m][0] for m in np.flatnonzero(sims > self.max_similarity)]
            if added and check:
                sims = (row @ vectors[[r for r, _ in added]].T).toarray().ravel()
                dups += [added[m][1] for m in np.flatnonzero(sims > self.max_similarity)]
            dups = [seq for seq in dups if seq in self.entries]
            if any(self.entries[seq].key >= key for seq in dups):
                continue  # a better copy is already kept
            seq = -key[1]
            if dups:
                for old in dups:
                    del self.entries[old]
                self.heap = [entry.key for entry in self.entries.values()]
                heapq.heapify(self.heap)
            self.entries[seq] = _Entry(key, row, make(i))
            heapq.heappush(self.heap, key)
            added.append((i, seq))
            if len(self.entries) > self.n:
                _, worst = heapq.heappop(self.heap)
                del self.entries[-worst]

    def ranked(self) -> list[Suggestion]:
        return [e.suggestion for e in sorted(self.entries.values(), key=lambda e: e.key, reverse=True)]


def _tfidf_columns(model: Any, n_features: int) -> slice:
    """The feature columns to compare articles on: the TF-IDF block when the
    vectorizer puts other columns (key-phrase counts) after it, else all."""
    tfidf = getattr(model.vectorizer_, "tfidf_", None)
    vocabulary = getattr(tfidf, "vocabulary_", None)
    if vocabulary and len(vocabulary) < n_features:
        return slice(0, len(vocabulary))
    return slice(0, n_features)


def _vstack(rows: list[Any]) -> Any:
    import scipy.sparse as sp

    return sp.vstack(rows, format="csr")


# --------------------------------------------------------------------------
# suggest
# --------------------------------------------------------------------------


def _batches(texts: Iterable[str], ids: Iterable[Any] | None, size: int) -> Iterator[tuple[list[str], list[str]]]:
    text_it = iter(texts)
    id_it = iter(ids) if ids is not None else None
    seen = 0
    while chunk := list(islice(text_it, size)):
        for k, text in enumerate(chunk):
            if not isinstance(text, str):
                hint = " (decode bytes first)" if isinstance(text, bytes) else ""
                raise InputError(f"document {seen + k} is {type(text).__name__}, expected str{hint}.")
        if id_it is None:
            chunk_ids = [str(seen + k) for k in range(len(chunk))]
        else:
            chunk_ids = [str(i) for i in islice(id_it, len(chunk))]
            if len(chunk_ids) < len(chunk):
                raise InputError(f"fewer ids than texts: ids run out at document {seen + len(chunk_ids)}.")
        seen += len(chunk)
        yield chunk, chunk_ids
    if id_it is not None and next(id_it, _END) is not _END:
        raise InputError(f"more ids than texts ({seen} texts).")


_END = object()


def suggest(
    model: Any,
    texts: Iterable[str],
    ids: Iterable[Any] | None = None,
    n: int = 50,
    *,
    chunk_size: int = 256,
    max_similarity: float = DEFAULT_MAX_SIMILARITY,
    committee: bool | None = None,
) -> list[Suggestion]:
    """Rank unlabeled articles by how much labeling them would help the model.

    For every article and theme, with ``p`` the theme's probability and
    ``t`` its threshold:

    * ``uncertainty = 1 - |p - t| / t`` below the threshold, ``1 - (p - t) /
      (1 - t)`` above it: 1 at the threshold, 0 at probability 0 or 1;
    * ``disagreement`` (only when the model keeps its cross-validation fold
      models): half the fold models' vote split around ``t`` (1 when evenly
      split, 0 when unanimous) plus half the spread of their probabilities
      (twice the standard deviation, at most 1).

    The theme score is the uncertainty, or the mean of uncertainty and
    disagreement with fold models; an article's score is its best theme
    score.  Articles with no word the model knows are skipped (nothing to
    learn from), and an article whose TF-IDF cosine to a better-scored
    suggestion exceeds ``max_similarity`` is skipped as a near-duplicate.

    Parameters
    ----------
    model : TopicModel
        A fitted model.
    texts : iterable of str
        Unlabeled raw articles; read lazily, ``chunk_size`` at a time.
    ids : iterable, optional
        One id per text (converted to ``str``); default: the position.
    n : int, default=50
        How many suggestions to return at most.
    chunk_size : int, default=256
        Articles scored per batch.  Memory is bounded by ``n`` kept articles
        plus one chunk, whatever the input size.
    max_similarity : float, default=0.9
        Cosine of TF-IDF vectors above which two articles count as
        near-duplicates; ``1.0`` or more turns the check off.
    committee : bool or None, default=None
        Use the fold models' disagreement: ``None`` uses it when the model
        has fold models (see :func:`committee_size`); ``True`` requires it.

    Returns
    -------
    list of Suggestion
        At most ``n``, best first (ties: input order).

    Raises
    ------
    InputError
        A text is not a string, or ``ids`` and ``texts`` differ in length.
    ValueError
        ``n`` or ``chunk_size`` below 1, or ``committee=True`` with a model
        that has no fold models.

    Examples
    --------
    >>> import arabictopics
    >>> model = arabictopics.load_model()
    >>> texts = ["ضبط شحنة كبتاغون في ميناء جدة", "فاز الهلال على النصر في الدوري", "مباحثات حول التعاون الأمني"]
    >>> picks = suggest(model, texts, ids=["a", "b", "c"], n=2)
    >>> len(picks), picks[0].score >= picks[1].score
    (2, True)
    >>> sorted(picks[0].to_dict())
    ['id', 'labels', 'reason', 'score', 'suggested', 'text']
    """
    from ._base import check_is_fitted
    from .features import _normalize_rows

    if isinstance(texts, (str, bytes)):
        raise InputError("an iterable of articles is expected, not a single string; wrap one article in a list.")
    if isinstance(ids, (str, bytes)):
        raise InputError("ids must be an iterable of ids, not a single string.")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}.")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}.")
    check_is_fitted(model, "classes_")
    cv = committee_size(model)
    if committee and not cv:
        raise ValueError(
            "this model has no fold models to measure disagreement (it was trained with cv < 2, or by an older "
            "version); retrain it with cv >= 2, or leave committee=None."
        )
    use_committee = bool(cv) and committee is not False
    method = "uncertainty+committee" if use_committee else "uncertainty"
    clf = model.classifier_
    labels = [str(c) for c in model.classes_]
    thresholds = np.clip(np.asarray(model.thresholds_, dtype=float), _EPS, 1.0 - _EPS)
    # the committee is the article-level model of each fold, with the article-level thresholds
    committee_thresholds = np.clip(np.asarray(clf.thresholds_, dtype=float), _EPS, 1.0 - _EPS)
    pool = _Pool(n, max_similarity)
    seq = 0
    for chunk, chunk_ids in _batches(texts, ids, chunk_size):
        answer = model._answer(chunk)
        features = answer.articles.to_scipy()
        proba = np.asarray(answer.about, dtype=float)
        theme_score = _uncertainty(proba, thresholds)
        votes = None
        if use_committee:
            fold = np.asarray(clf.fold_proba(features), dtype=float)
            disagreement, votes = _disagreement(fold, committee_thresholds)
            theme_score = 0.5 * (theme_score + disagreement)
        best = theme_score.argmax(axis=1)
        scores = theme_score[np.arange(len(chunk)), best]
        known = np.asarray(features.getnnz(axis=1)).ravel() > 0
        rows = np.flatnonzero(known)
        keys = [(float(scores[i]), -(seq + int(i))) for i in rows]
        seq += len(chunk)
        if not any(pool.would_enter(key) for key in keys):
            continue
        vectors = features[rows][:, _tfidf_columns(model, features.shape[1])].tocsr().astype(np.float64)
        _normalize_rows(vectors, "l2")

        def make(k: int, rows=rows, proba=proba, best=best, scores=scores, votes=votes, chunk=chunk, ids=chunk_ids):
            i = int(rows[k])
            j = int(best[i])
            above = np.flatnonzero(proba[i] >= thresholds)
            suggested = tuple(labels[a] for a in sorted(above, key=lambda a: -proba[i, a]))
            vote = None if votes is None else int(votes[i, j])
            reason = _reason(labels[j], float(proba[i, j]), float(thresholds[j]), vote, cv)
            return Suggestion(ids[i], chunk[i], suggested, float(scores[i]), reason, labels[j], method)

        pool.offer_chunk(keys, vectors, make)
    return pool.ranked()
