"""The passage layer: what an article is *about*, what it *names*, and the
sentence that shows each.

A long cooperation story (an interior ministers' meeting, an alliance, a
summit) names many themes but is about few of them.  Scored as one bag of
words, a theme carried by one paragraph is diluted away, and a theme named
once in an agenda list is either lost or over-called.  This layer scores
each article three ways with the same linear theme model:

* the whole article;
* every *window* of ``window`` consecutive sentences;
* every sentence.

The article is tokenized once: sentences are cut from the article as
written (:func:`arabictopics.text.sentence_spans`, boilerplate excluded),
the words of all sentences are looked up in one pass, and the rows of the
article, of its windows and of its sentences are counts over runs of that
one sequence of term ids (:func:`arabictopics._sparse.count_ranges`),
weighted by TF-IDF afterwards.  The extra cost is a sort of the windows'
term ids and one matrix product, not a second pass over the text.

From those scores :class:`PassageLayer` derives, per article and theme, a
few numbers (:data:`SIGNALS`) and learns two logistic heads on them: *about*
(the theme is a main thread of the story) and *found* (the theme is about
or named).  :func:`decide` turns the two probabilities into the answer,
and is the one place that rule lives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._base import BaseEstimator, check_state_array, check_state_int
from ._sparse import Rows, count_ranges
from .text import normalize, sentence_spans, strip_html, strip_links

__all__ = ["SIGNALS", "Decision", "PassageLayer", "Passages", "decide", "segment", "split_levels"]

#: The per-article, per-theme numbers the two heads are learned on, in
#: column order.  ``z`` is a log-odds of the article-level theme model.
SIGNALS = (
    "z_article",  # the whole article
    "z_best_window",  # the best window of consecutive sentences
    "z_headline",  # the first sentence
    "z_best_sentence",  # the best single sentence
    "window_share",  # share of windows that the article-level threshold would call on their own
    "sentence_hits",  # log(1 + sentences with one of the theme's key phrases)
    "sentence_hit_share",  # share of sentences with one of the theme's key phrases
    "sentence_hit_lead",  # those sentences, relative to the article's most named theme's
    "best_sentence_hit",  # 1 when the best sentence itself holds one of the theme's key phrases
)


# --------------------------------------------------------------------------
# segmentation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Passages:
    """An article cut into sentences.

    Attributes
    ----------
    readable : str
        The article as read: its first ``max_chars`` characters with HTML
        removed.  Evidence is quoted from here, as written.
    spans : tuple of (int, int)
        The sentences' offsets into ``readable``, boilerplate excluded.
    """

    readable: str
    spans: tuple[tuple[int, int], ...]

    def sentence(self, k: int) -> str:
        """Sentence ``k`` as written."""
        start, end = self.spans[k]
        return self.readable[start:end]

    def sentences(self) -> list[str]:
        return [self.readable[start:end] for start, end in self.spans]


def segment(text: str, max_chars: int | None = None) -> Passages:
    """Cut a raw article (text or HTML) into its sentences.

    Parameters
    ----------
    text : str
    max_chars : int or None
        Read at most this many characters.

    Returns
    -------
    Passages

    Examples
    --------
    >>> p = segment("<p>ضبط شحنة حشيش</p><p>أعلنت الشرطة ضبط الشحنة. وأوقفت ثلاثة.</p>")
    >>> p.sentences()
    ['ضبط شحنة حشيش', 'أعلنت الشرطة ضبط الشحنة.', 'وأوقفت ثلاثة.']
    """
    readable = strip_html(text if max_chars is None else text[:max_chars])
    return Passages(readable, tuple(sentence_spans(readable)))


def clean_sentences(preprocessor: Any, passages: Sequence[Passages]) -> list[str]:
    """Every sentence of every article, cleaned by ``preprocessor``'s rules, in order.

    With :class:`~arabictopics.features.ArabicPreprocessor` this is what
    :func:`arabictopics.text.clean` does after the boilerplate is gone
    (:func:`~arabictopics.text.normalize`, then
    :func:`~arabictopics.text.strip_links`), run once over all the
    article's sentences joined by line breaks: a sentence holds no line
    break, and neither function makes or removes one.
    """
    from .features import ArabicPreprocessor

    if type(preprocessor) is not ArabicPreprocessor:
        return list(preprocessor.transform([s for p in passages for s in p.sentences()]))
    cleaned: list[str] = []
    for p in passages:
        if p.spans:
            sentences = strip_links(normalize("\n".join(p.sentences()))).split("\n")
            if len(sentences) != len(p.spans):  # pragma: no cover - no character normalizes to a line break
                sentences = [strip_links(normalize(s)).replace("\n", " ") for s in p.sentences()]
            cleaned += sentences
    return cleaned


# --------------------------------------------------------------------------
# rows: articles, windows, sentences
# --------------------------------------------------------------------------


@dataclass
class _Layout:
    """Where each article's sentences and windows are among the rows.

    Window ``k`` of an article is its sentences ``window_first[k]`` to
    ``window_stop[k] - 1`` (numbered over the whole batch): ``window``
    consecutive sentences, or all of them in an article with fewer; an
    article without sentences has one empty window."""

    n_sentences: np.ndarray  # per article
    n_windows: np.ndarray  # per article (at least 1)
    window_first: np.ndarray  # per window
    window_stop: np.ndarray  # per window

    @property
    def sentence_start(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.n_sentences)[:-1]]).astype(np.int64)

    @property
    def window_start(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.n_windows)[:-1]]).astype(np.int64)


def _layout(n_sentences: np.ndarray, window: int) -> _Layout:
    """The windows of every article (see :class:`_Layout`)."""
    n = np.asarray(n_sentences, dtype=np.int64)
    m = np.maximum(n - window + 1, 1)
    first = np.repeat(np.concatenate([[0], np.cumsum(n)[:-1]]).astype(np.int64), m)
    first += np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m)
    return _Layout(n, m, first, first + np.minimum(window, np.repeat(n, m)))


@dataclass
class PassageRows:
    """Feature rows of a batch: its articles, then their windows, then their sentences.

    With the default features the rows are kept as counts (``terms``,
    ``phrase_rows``) over runs of one sequence of term ids, and
    :meth:`scores` takes the product with a linear model's weights from
    them; :attr:`stacked` weighs them into feature rows when something asks
    for the rows themselves.  Any other vectorizer gives ``stacked`` alone.
    """

    layout: _Layout
    vectorizer: Any = None
    terms: Rows | None = None  # term counts of every row
    phrase_rows: Rows | None = None  # key-phrase counts of every row
    scale: np.ndarray | None = None  # of each row's TF-IDF part (see ``min_terms``)
    first: np.ndarray | None = None  # each row's sentences: first to stop - 1
    stop: np.ndarray | None = None
    term_ids: np.ndarray | None = None  # the batch's term ids, sentence after sentence
    term_bounds: np.ndarray | None = None  # sentence k's term ids: term_bounds[k]:term_bounds[k + 1]
    _stacked: Rows | None = None

    @property
    def counted(self) -> bool:
        """Whether the rows are kept as counts (the default features)."""
        return self.terms is not None

    @property
    def stacked(self) -> Rows:
        """All feature rows, weighed (articles, windows, sentences)."""
        if self._stacked is None:
            self._stacked = self.vectorizer._weigh((self.terms.copy(), self.phrase_rows.copy()), self.scale)
        return self._stacked

    @property
    def n_features(self) -> int:
        if self.counted:
            return self.terms.shape[1] + self.phrase_rows.shape[1]
        return self.stacked.shape[1]

    @property
    def _n_articles(self) -> int:
        return len(self.layout.n_sentences)

    @property
    def _n_windows(self) -> int:
        return len(self.layout.window_first)

    @property
    def phrases(self) -> Rows | None:
        """Key-phrase counts per sentence (n_sentences, n_phrase_columns),
        ``None`` without key-phrase features."""
        if not self.counted:
            return None
        return self.phrase_rows.rows(self._n_articles + self._n_windows, self.phrase_rows.shape[0])

    @property
    def articles(self) -> Rows:
        n = self._n_articles
        if self._stacked is None and self.counted:  # weigh the article rows alone
            return self.vectorizer._weigh((self.terms.rows(0, n).copy(), self.phrase_rows.rows(0, n).copy()))
        return self.stacked.rows(0, n)

    @property
    def windows(self) -> Rows:
        return self.stacked.rows(self._n_articles, self._n_articles + self._n_windows)

    @property
    def sentences(self) -> Rows:
        return self.stacked.rows(self._n_articles + self._n_windows, self.stacked.shape[0])

    def scores(self, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """``stacked @ coef.T + intercept``, from the counts (see :attr:`counted`).

        Every row is a run of sentences, so its sum of the vectorizer's
        per-occurrence weights is a sum of sentence sums, and each sentence
        sum a sum over its words: one lookup per word for all rows."""
        weights = self.vectorizer._token_weights(coef)  # (outputs + 1, n_terms)
        sentence_sums = np.zeros((len(weights), len(self.term_bounds) - 1))
        has = np.diff(self.term_bounds) > 0
        if has.any():
            taken = np.take(weights, self.term_ids, axis=1)
            sentence_sums[:, has] = np.add.reduceat(taken, self.term_bounds[:-1][has], axis=1)
        n_articles = self._n_articles
        row_sums = np.zeros((len(weights), len(self.first)))
        span = self.stop - self.first
        for offset in range(int(span[n_articles:].max(initial=0))):  # a window's few sentences, one at a time
            rows = n_articles + np.flatnonzero(span[n_articles:] > offset)
            row_sums[:, rows] += sentence_sums[:, self.first[rows] + offset]
        row_sums[:, :n_articles] = _segment_sum(sentence_sums.T, self.layout.n_sentences).T
        out = self.vectorizer._scores((self.terms, self.phrase_rows), row_sums, coef, weights, self.scale)
        return out + intercept


@dataclass
class PassageScores:
    """Log-odds of the article-level theme model on articles, windows and sentences.

    Attributes
    ----------
    article : ndarray (n_articles, n_themes)
    windows : ndarray (n_windows, n_themes)
    sentences : ndarray (n_sentences, n_themes)
    hits : ndarray (n_sentences, n_themes) of bool
        Sentences holding one of the theme's key phrases.
    layout : _Layout
    """

    article: np.ndarray
    windows: np.ndarray
    sentences: np.ndarray
    hits: np.ndarray
    layout: _Layout
    best: np.ndarray | None = None  # see best_sentences


def passage_rows(
    vectorizer: Any, sentences: list[str], n_sentences: np.ndarray, window: int, min_terms: int = 0
) -> PassageRows:
    """Feature rows of articles, windows and sentences, from cleaned sentences.

    With the default features (:class:`~arabictopics.features.ThemeFeatures`)
    the words of all sentences are looked up once and every row counts a
    run of consecutive sentences' words; any other vectorizer transforms
    the joined texts.

    A unit-length TF-IDF row of a three-word sentence weighs each word as if
    it were a whole article about that word; with ``min_terms`` a window or
    sentence with fewer distinct known words has its TF-IDF part scaled by
    ``distinct words / min_terms``, so a two-word headline is not read as
    the strongest evidence of the article.

    Returns
    -------
    PassageRows
    """
    layout = _layout(n_sentences, window)
    n = layout.n_sentences
    # every row is a run of sentences: articles, windows, sentences
    first = np.concatenate([layout.sentence_start, layout.window_first, np.arange(int(n.sum()), dtype=np.int64)])
    stop = np.concatenate([layout.sentence_start + n, layout.window_stop, np.arange(1, int(n.sum()) + 1)])
    if getattr(vectorizer, "_additive", lambda: False)():
        term_ids, term_bounds, columns, phrase_bounds = vectorizer._sequences(sentences)
        terms = count_ranges(term_ids, term_bounds[first], term_bounds[stop], len(vectorizer.tfidf_.vocabulary_))
        n_columns = len(vectorizer.keyphrases_.names_)
        scale = None
        if min_terms:
            scale = np.minimum(1.0, terms.row_lengths() / min_terms)
            scale[: len(n)] = 1.0  # articles are never scaled
        return PassageRows(
            layout=layout,
            vectorizer=vectorizer,
            terms=terms,
            phrase_rows=count_ranges(columns, phrase_bounds[first], phrase_bounds[stop], n_columns),
            scale=scale,
            first=first,
            stop=stop,
            term_ids=term_ids,
            term_bounds=term_bounds,
        )
    texts = [" ".join(sentences[a:b]) for a, b in zip(first.tolist(), stop.tolist())]
    return PassageRows(layout, _stacked=Rows.from_matrix(vectorizer.transform(texts)))


def _segment_max(values: np.ndarray, counts: np.ndarray, empty: np.ndarray) -> np.ndarray:
    """Per-article maximum of consecutive row groups; ``empty`` where an article has no rows."""
    out = np.tile(empty, (len(counts), 1)).astype(float)
    has = counts > 0
    if has.any():
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[has]
        out[has] = np.maximum.reduceat(values, starts, axis=0)
    return out


def _segment_sum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    out = np.zeros((len(counts), values.shape[1]))
    has = counts > 0
    if has.any():
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[has]
        out[has] = np.add.reduceat(values, starts, axis=0)
    return out


def signals(scores: PassageScores, cutoffs: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """The :data:`SIGNALS` of every article and theme.

    Parameters
    ----------
    scores : PassageScores
    cutoffs : ndarray (n_themes,)
        Log-odds at which the article-level model calls a theme.
    intercept : ndarray (n_themes,)
        Log-odds of an empty text (stands in where an article has no sentence).

    Returns
    -------
    ndarray of shape (n_articles, n_themes, len(SIGNALS))
    """
    layout = scores.layout
    n, m = layout.n_sentences, layout.n_windows
    best_window = _segment_max(scores.windows, m, intercept)
    window_share = _segment_sum((scores.windows >= cutoffs).astype(float), m) / m[:, None]
    headline = np.tile(intercept, (len(n), 1)).astype(float)
    has = n > 0
    headline[has] = scores.sentences[layout.sentence_start[has]]
    best_sentence = _segment_max(scores.sentences, n, intercept)
    hits = _segment_sum(scores.hits.astype(float), n)
    share = hits / np.maximum(n, 1)[:, None]
    lead = hits / np.maximum(hits.max(axis=1, keepdims=True), 1.0)
    best = best_sentences(scores)
    best_hit = np.zeros(hits.shape)
    rows, themes = np.nonzero(best >= 0)
    best_hit[rows, themes] = scores.hits[layout.sentence_start[rows] + best[rows, themes], themes]
    return np.stack(
        [scores.article, best_window, headline, best_sentence, window_share, np.log1p(hits), share, lead, best_hit],
        axis=2,
    )


def best_sentences(scores: PassageScores) -> np.ndarray:
    """Index (within its article) of each article's best sentence per theme, -1 without sentences.

    The first best, when several sentences tie.  Computed once per
    :class:`PassageScores` and kept."""
    if scores.best is None:
        layout = scores.layout
        n, z = layout.n_sentences, scores.sentences
        out = np.full((len(n), z.shape[1]), -1, dtype=np.int64)
        has = n > 0
        if has.any():
            starts = layout.sentence_start[has]
            top = np.repeat(np.maximum.reduceat(z, starts, axis=0), n[has], axis=0)
            where = np.where(z == top, np.arange(len(z))[:, None], len(z))
            out[has] = np.minimum.reduceat(where, starts, axis=0) - starts[:, None]
        scores.best = out
    return scores.best


# --------------------------------------------------------------------------
# the decision
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """The two-level answer for one article, before evidence is quoted.

    Attributes
    ----------
    labels : list of int
        Themes the article is about, best first.
    mentions : list of int
        Themes it names without being about them, best first.
    """

    labels: list[int]
    mentions: list[int]


def split_levels(
    about: np.ndarray, found: np.ndarray, about_cut: np.ndarray, found_cut: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The rule of :func:`decide` as two boolean matrices: (about, named)."""
    is_about = np.asarray(about) >= about_cut
    return is_about, ~is_about & (np.asarray(found) >= found_cut)


def decide(about: np.ndarray, found: np.ndarray, about_cut: np.ndarray, found_cut: np.ndarray) -> list[Decision]:
    """The one rule: about, named, or neither, per article and theme.

    A theme is **about** (a label) when its about-probability reaches its
    about-threshold.  Otherwise it is **named** (a mention) when its
    found-probability reaches its found-threshold.  Otherwise it is neither.
    So a theme is never both.

    On the seed articles (long interior-ministry and alliance news) this
    reads as: an alliance founded to fight transnational organized crime
    is *about* organized crime (the purpose recurs and fills windows);
    «ومن بينها مكافحة الجرائم الإلكترونية واستخدام الطائرات المسيرة» *names*
    cybercrime and drones (one strong sentence, weak article and windows);
    the drug story in the «اقرأ أيضاً» tail is *neither* (never read).

    Parameters
    ----------
    about, found : ndarray of shape (n_articles, n_themes)
        Probabilities from :class:`PassageLayer`.
    about_cut, found_cut : ndarray of shape (n_themes,)

    Returns
    -------
    list of Decision

    Examples
    --------
    >>> d = decide(np.array([[0.9, 0.2, 0.1]]), np.array([[0.95, 0.7, 0.2]]), np.full(3, 0.5), np.full(3, 0.5))
    >>> d[0].labels, d[0].mentions
    ([0], [1])
    """
    is_about, is_named = split_levels(about, found, about_cut, found_cut)
    out = []
    for p_about, p_found, a, f in zip(about, found, is_about, is_named):
        labels = sorted(np.flatnonzero(a).tolist(), key=lambda j: -p_about[j])
        mentions = sorted(np.flatnonzero(f).tolist(), key=lambda j: -p_found[j])
        out.append(Decision(labels, mentions))
    return out


def _nonnegative_logistic(X: np.ndarray, groups: np.ndarray, y: np.ndarray, C: float) -> tuple[np.ndarray, np.ndarray]:
    """L2-penalised logistic regression with non-negative weights on ``X``
    and a free, unpenalised offset per group (one-hot ``groups``).

    Minimises ``sum(log-loss) + ||w||^2 / (2 C)`` with L-BFGS-B (bounds
    ``w >= 0``).  Returns ``(w, offsets)``."""
    from scipy.optimize import minimize

    k, g = X.shape[1], groups.shape[1]
    design = np.concatenate([X, groups], axis=1)

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = design @ params
        p = _sigmoid(z)
        value = float(np.sum(np.logaddexp(0.0, z) - y * z) + params[:k] @ params[:k] / (2 * C))
        grad = design.T @ (p - y)
        grad[:k] += params[:k] / C
        return value, grad

    start = np.zeros(k + g)
    base = np.clip(y.mean(), 1e-6, 1 - 1e-6)
    start[k:] = np.log(base / (1 - base))
    bounds = [(0.0, None)] * k + [(None, None)] * g
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 5000})
    return result.x[:k], result.x[k:]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


class PassageLayer(BaseEstimator):
    """Two logistic heads over :data:`SIGNALS`: about, and found (about or named).

    Both heads share their weights across themes and learn one offset per
    theme, so a theme with few examples borrows the others' evidence.
    Thresholds per theme maximise F1 on out-of-fold predictions of the
    training articles (the same folds as the article-level model).

    Without mention labels in the training data, the found head is not
    learned: a theme is then named when its best sentence, on its own,
    reaches the article-level threshold.

    A theme that has key phrases (the features'
    :class:`~arabictopics.features.KeyphraseCounter`) is named only by an
    article that uses one of them: naming a theme takes words that name it,
    and a lone ambiguous word («مسيرة»: a march, a career or a drone) is not
    enough.

    Parameters
    ----------
    window : int, default=3
        Sentences per window.
    min_terms : int, default=8
        Windows and sentences with fewer distinct known words count less
        (see :func:`passage_rows`).
    C : float, default=1.0
        Inverse regularisation of the heads.
    threshold_range : tuple of float, default=(0.2, 0.8)
    found_beta : float, default=0.5
        The found-thresholds maximise F-beta of labels + mentions: 0.5 weighs
        precision twice as much as recall, because a mention that is not
        there costs an analyst a read, and the fixtures name themes more
        densely than a real feed does.

    Attributes
    ----------
    about_coef_, found_coef_ : ndarray of shape (n_themes, len(SIGNALS))
    about_offset_, found_offset_ : ndarray of shape (n_themes,)
    about_thresholds_, found_thresholds_ : ndarray of shape (n_themes,)
    found_learned_ : bool
        Whether the found head was learned from mention labels.
    lexical_ : ndarray of shape (n_themes,) of bool
        Themes with key phrases: named only where one of them occurs.
    """

    def __init__(
        self,
        *,
        window: int = 3,
        min_terms: int = 8,
        C: float = 1.0,
        threshold_range: tuple[float, float] = (0.2, 0.8),
        found_beta: float = 0.5,
    ):
        self.window = window
        self.min_terms = min_terms
        self.found_beta = found_beta
        self.C = C
        self.threshold_range = threshold_range

    _state_attributes = (
        "lexical_",
        "about_coef_",
        "about_offset_",
        "about_thresholds_",
        "found_learned_",
        "found_coef_",
        "found_offset_",
        "found_thresholds_",
        "oof_about_",
        "oof_found_",
    )

    def _check_state(self) -> None:
        check_state_int(self.window, "window", 1, 1000)
        check_state_int(self.min_terms, "min_terms", 0, 10**6)
        if not isinstance(self.found_learned_, bool):
            raise ValueError("found_learned_ must be a bool")
        t = check_state_array(self.about_coef_, "about_coef_", (None, len(SIGNALS))).shape[0]
        check_state_array(self.found_coef_, "found_coef_", (t, len(SIGNALS)))
        check_state_array(self.lexical_, "lexical_", (t,), "b")
        for name in ("about_offset_", "about_thresholds_", "found_offset_", "found_thresholds_"):
            check_state_array(getattr(self, name), name, (t,))
        for name in ("oof_about_", "oof_found_"):
            if getattr(self, name) is not None:
                check_state_array(getattr(self, name), name, (None, t))

    def _head(self, F: np.ndarray, Y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fit one head; returns per-theme weights (n_themes, n_signals) and offsets (n_themes,).

        Each signal is evidence *for* a theme, so every weight is kept
        non-negative: a head may ignore a signal but never read more
        evidence as less likely (collinear signals otherwise trade
        weights of opposite signs that do not carry over to new text).
        The design has shared columns (one weight per signal for every
        theme) and per-theme columns (a theme's own addition), both
        penalised, so a theme departs from the shared weights only as far as
        its own examples demand."""
        n, t, k = F.shape
        flat = F.reshape(n * t, k)
        theme = np.tile(np.eye(t), (n, 1))
        X = np.concatenate([flat, (flat[:, :, None] * theme[:, None, :]).reshape(n * t, k * t)], axis=1)
        y = Y.reshape(-1).astype(float)
        keep = mask.reshape(-1)
        if y[keep].min() == y[keep].max():
            return np.zeros((t, k)), np.full(t, 50.0 if y[keep][0] else -50.0)
        coef, offsets = _nonnegative_logistic(X[keep], theme[keep], y[keep], self.C)
        shared, own = coef[:k], coef[k:].reshape(k, t).T
        return shared + own, offsets

    @staticmethod
    def _apply(F: np.ndarray, coef: np.ndarray, offset: np.ndarray) -> np.ndarray:
        return _sigmoid(np.einsum("itk,tk->it", F, coef) + offset)

    def fit(
        self,
        F: np.ndarray,
        Y_about: np.ndarray,
        Y_found: np.ndarray | None,
        found_known: np.ndarray | None,
        folds: Sequence[np.ndarray],
    ) -> PassageLayer:
        """Learn both heads and their thresholds.

        Parameters
        ----------
        F : ndarray (n_articles, n_themes, len(SIGNALS))
            Signals from out-of-fold article-level models.
        Y_about : ndarray (n_articles, n_themes) of 0/1
        Y_found : ndarray (n_articles, n_themes) of 0/1 or None
            About or named; ``None`` when the data has no mention labels.
        found_known : ndarray (n_articles,) of bool or None
            Articles whose mentions were labeled.
        folds : list of ndarray
            Test rows of each fold, for out-of-fold thresholds.
        """
        from .metrics import best_f1_threshold

        n, t, _ = F.shape
        self.lexical_ = (F[:, :, SIGNALS.index("sentence_hits")] > 0).any(axis=0)
        everyone = np.ones((n, t), dtype=bool)
        learn_found = Y_found is not None and found_known is not None and found_known.any()
        known = np.repeat(found_known[:, None], t, axis=1) if learn_found else None
        oof_about = np.zeros((n, t))
        oof_found = np.zeros((n, t))
        for test in folds:
            train = np.setdiff1d(np.arange(n), test)
            coef, offset = self._head(F[train], Y_about[train], everyone[train])
            oof_about[test] = self._apply(F[test], coef, offset)
            if learn_found:
                coef, offset = self._head(F[train], Y_found[train], known[train])
                oof_found[test] = self._apply(F[test], coef, offset)
        oof_found[self.lexical_ & (F[:, :, SIGNALS.index("sentence_hits")] == 0)] = 0.0
        low, high = self.threshold_range
        self.about_coef_, self.about_offset_ = self._head(F, Y_about, everyone)
        self.about_thresholds_ = np.array(
            [np.clip(best_f1_threshold(Y_about[:, j], oof_about[:, j]), low, high) for j in range(t)]
        )
        self.found_learned_ = bool(learn_found)
        if learn_found:
            self.found_coef_, self.found_offset_ = self._head(F, Y_found, known)
            rows = found_known
            cuts = []
            for j in range(t):
                is_about = oof_about[rows, j] >= self.about_thresholds_[j]
                # found = about or named: the about part is fixed, choose the cut of the rest
                score = np.where(is_about, 1.0, oof_found[rows, j])
                cuts.append(np.clip(best_f1_threshold(Y_found[rows, j], score, beta=self.found_beta), low, high))
            self.found_thresholds_ = np.array(cuts)
        else:
            self.found_coef_ = np.zeros((t, F.shape[2]))
            self.found_offset_ = np.zeros(t)
            self.found_thresholds_ = np.full(t, 0.5)
        self.oof_about_ = oof_about
        self.oof_found_ = oof_found if learn_found else None
        return self

    def fit_rule(self, thresholds: np.ndarray, oof_proba: np.ndarray | None = None) -> PassageLayer:
        """Set both heads by rule, when no out-of-fold scores are available
        (an article-level model fitted with ``cv < 2``): about is the
        article-level answer, found is the sentence rule."""
        t = len(thresholds)
        self.about_coef_ = np.zeros((t, len(SIGNALS)))
        self.about_coef_[:, SIGNALS.index("z_article")] = 1.0
        self.about_offset_ = np.zeros(t)
        self.about_thresholds_ = np.asarray(thresholds, dtype=float).copy()
        self.found_coef_ = np.zeros((t, len(SIGNALS)))
        self.found_offset_ = np.zeros(t)
        self.found_thresholds_ = np.full(t, 0.5)
        self.found_learned_ = False
        self.lexical_ = np.zeros(t, dtype=bool)
        self.oof_about_ = oof_proba
        self.oof_found_ = None
        return self

    def predict_proba(self, F: np.ndarray, cutoffs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """About- and found-probabilities, each (n_articles, n_themes).

        ``cutoffs``: the article-level thresholds as log-odds (for the
        sentence rule of an unlearned found head)."""
        about = self._apply(F, self.about_coef_, self.about_offset_)
        if self.found_learned_:
            found = self._apply(F, self.found_coef_, self.found_offset_)
        else:  # the sentence rule: the best sentence, alone, would be called
            found = _sigmoid(F[:, :, SIGNALS.index("z_best_sentence")] - cutoffs + _logit(self.found_thresholds_))
        unnamed = self.lexical_ & (F[:, :, SIGNALS.index("sentence_hits")] == 0)
        return about, np.where(unnamed, 0.0, found)
