"""From raw articles to features.

:class:`ArabicPreprocessor` is a stateless scikit-learn transformer (raw
text in, :func:`arabictopics.text.clean` text out).  :func:`make_vectorizer`
builds the default model's features from cleaned text: TF-IDF of
light-stemmed words (:class:`ArabicTfidfVectorizer`) beside one pooled
count per theme of the theme's key phrases (:class:`KeyphraseCounter`).
All plug into a :class:`~sklearn.pipeline.Pipeline`.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from itertools import chain
from typing import Any

import numpy as np

from ._base import BaseEstimator, TransformerMixin, check_is_fitted, check_state_array, check_state_int, clone
from ._sparse import Rows, count_ranges, hstack
from .exceptions import InputError
from .text import _analyze_word, analyze, clean

__all__ = [
    "DEFAULT_MAX_CHARS",
    "ArabicPreprocessor",
    "ArabicTfidfVectorizer",
    "KeyphraseCounter",
    "ThemeFeatures",
    "check_texts",
    "make_vectorizer",
]

#: Articles longer than this many characters are cut before cleaning, which
#: bounds time and memory per article (a 20 MB "article" is a scraping
#: accident, not news).  100,000 characters is ~15,000 words.
DEFAULT_MAX_CHARS = 100_000


def check_texts(texts: Any) -> list[str]:
    """Return ``texts`` as a list of ``str``, or raise :class:`InputError`.

    A bare string is refused (it would be read as a sequence of
    characters), and so is any item that is not ``str``.

    Examples
    --------
    >>> check_texts(("نص", "آخر"))
    ['نص', 'آخر']
    >>> check_texts("نص")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    arabictopics.exceptions.InputError: Iterable over raw text documents expected, string object received; ...
    """
    if isinstance(texts, (str, bytes)):
        raise InputError(
            "Iterable over raw text documents expected, string object received; "
            "wrap a single article in a list: [text]."
        )
    if not isinstance(texts, Iterable):
        raise InputError(f"Iterable over raw text documents expected, got {type(texts).__name__}.")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            hint = " (decode bytes first, e.g. data.decode('utf-8'))" if isinstance(text, bytes) else ""
            raise InputError(f"document {i} is {type(text).__name__}, expected str{hint}.")
    return texts


class ArabicPreprocessor(TransformerMixin, BaseEstimator):
    """Clean raw Arabic articles: HTML, boilerplate, normalization, links.

    Stateless: ``fit`` learns nothing.  Each document is first cut to
    ``max_chars`` characters, then passed through
    :func:`arabictopics.text.clean`.

    Parameters
    ----------
    max_chars : int or None, default=100_000
        Longest input read per document; ``None`` reads everything.

    Examples
    --------
    >>> ArabicPreprocessor().fit_transform(["<b>أعلنت</b> الداخليـــة"])
    ['اعلنت الداخلية']
    """

    def __init__(self, *, max_chars: int | None = DEFAULT_MAX_CHARS):
        self.max_chars = max_chars

    def fit(self, X: Iterable[str], y: Any = None) -> ArabicPreprocessor:
        """Check ``X``; nothing is learned.  Returns ``self``."""
        check_texts(X)
        return self

    def transform(self, X: Iterable[str]) -> list[str]:
        """Clean every document.

        Parameters
        ----------
        X : iterable of str

        Returns
        -------
        list of str
        """
        limit = self.max_chars
        if limit is None:
            return [clean(text) for text in check_texts(X)]
        return [clean(text[:limit]) for text in check_texts(X)]

    def _check_state(self) -> None:
        if self.max_chars is not None:
            check_state_int(self.max_chars, "max_chars", 1, 2**62)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags


class _WordCache(dict):
    """Cleaned word -> ``compute(word)``, filled on first sight of a word
    (``__missing__``), so a known word costs one C-level dict hit; cleared
    when it grows past ``max_size``.  ``sources`` are the fitted tables it
    was computed from: a refit replaces them, and the cache with them."""

    def __init__(self, compute: Any, sources: tuple[Any, ...], max_size: int = 500_000):
        super().__init__()
        self.compute = compute
        self.sources = sources
        self.max_size = max_size

    def __missing__(self, word: str) -> tuple[int, ...]:
        value = self.compute(word)
        if len(self) >= self.max_size:
            self.clear()
        self[word] = value
        return value


class _CachesWords:
    """Mixin: one per-instance :class:`_WordCache`, never pickled."""

    def _word_cache(self, sources: tuple[Any, ...], compute: Any) -> _WordCache:
        cache = self.__dict__.get("_words")
        if cache is None or any(old is not new for old, new in zip(cache.sources, sources)):
            cache = self._words = _WordCache(compute, sources)
        return cache

    def __getstate__(self):
        state = super().__getstate__()  # type: ignore[misc]
        state.pop("_words", None)
        return state


def _normalize_rows(X: Any, norm: str) -> None:
    """Scale each row of ``X`` (a :class:`Rows` or a SciPy CSR matrix) in
    place to unit ``norm`` ("l1" or "l2"); empty rows stay empty.  Same
    result as ``sklearn.preprocessing.normalize``, without importing
    :mod:`sklearn.preprocessing` at load time."""
    lengths = np.diff(X.indptr)
    rows = np.repeat(np.arange(X.shape[0]), lengths)
    sizes = np.bincount(rows, weights=X.data**2 if norm == "l2" else np.abs(X.data), minlength=X.shape[0])
    if norm == "l2":
        sizes = np.sqrt(sizes)
    sizes[sizes == 0.0] = 1.0
    X.data /= np.repeat(sizes, lengths)


class ArabicTfidfVectorizer(_CachesWords, TransformerMixin, BaseEstimator):
    """TF-IDF of analyzed words: scikit-learn's
    :class:`~sklearn.feature_extraction.text.TfidfVectorizer` for a callable
    analyzer, in numpy alone.

    The parameters mean what they mean for ``TfidfVectorizer`` and ``fit``
    learns the same ``vocabulary_`` and ``idf_``, so ``transform`` gives the
    same matrix (``tests/test_features.py`` checks it against scikit-learn).
    The analyzer is called on each raw document; with
    :func:`arabictopics.text.analyze` (the default) ``transform`` instead maps
    each whitespace-separated word of the cleaned text to its vocabulary
    indices through a per-word cache (never pickled; a refit starts a new
    one) and builds the count matrix in one sparse operation.  The fitted
    state is plain data (a vocabulary and an array), which is what lets a
    model be saved without pickle and scored without scikit-learn.  For
    string analyzers (``"char_wb"``, n-grams) use scikit-learn's
    ``TfidfVectorizer`` itself.

    Parameters
    ----------
    analyzer : callable, default=analyze
        Document -> list of tokens.
    min_df, max_df : int or float, default=1 and 1.0
        Drop tokens in fewer / more documents than this (a float is a share
        of the documents).
    max_features : int or None, default=None
        Keep the tokens most frequent over the corpus.
    vocabulary : mapping or iterable of str, or None, default=None
        A fixed vocabulary instead of one learned.
    binary : bool, default=False
        Count a token once per document.
    norm : {"l2", "l1"} or None, default="l2"
    use_idf, smooth_idf, sublinear_tf : bool, default=True, True, False
    dtype : numpy dtype, default=numpy.float64

    Attributes
    ----------
    vocabulary_ : dict of str to int
    idf_ : ndarray of shape (n_features,)

    Examples
    --------
    >>> docs = ["ضبط شحنة مخدرات", "شبكة تهريب مخدرات"]
    >>> v = ArabicTfidfVectorizer().fit(docs)
    >>> sorted(v.get_feature_names_out()[v.transform(["ضبط الشرطة شحنة مخدرات"]).indices])
    ['شحن', 'ضبط', 'مخدر']
    """

    def __init__(
        self,
        *,
        analyzer: Any = analyze,
        min_df: float = 1,
        max_df: float = 1.0,
        max_features: int | None = None,
        vocabulary: Any = None,
        binary: bool = False,
        norm: str | None = "l2",
        use_idf: bool = True,
        smooth_idf: bool = True,
        sublinear_tf: bool = False,
        dtype: Any = np.float64,
    ):
        self.analyzer = analyzer
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.vocabulary = vocabulary
        self.binary = binary
        self.norm = norm
        self.use_idf = use_idf
        self.smooth_idf = smooth_idf
        self.sublinear_tf = sublinear_tf
        self.dtype = dtype

    _state_attributes = ("vocabulary_", "idf_")

    def _fast(self) -> bool:
        """Whether documents are read word by word (the default analyzer)."""
        return self.analyzer is analyze

    def _check_state(self) -> None:
        self._check_params()
        for name in ("binary", "use_idf", "smooth_idf", "sublinear_tf"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be numpy.float32 or numpy.float64, got {self.dtype!r}")
        vocabulary = self.vocabulary_
        if not isinstance(vocabulary, dict) or not all(isinstance(term, str) for term in vocabulary):
            raise ValueError("vocabulary_ must map terms (str) to column indices")
        if sorted(vocabulary.values()) != list(range(len(vocabulary))):
            raise ValueError("vocabulary_ must number its terms 0, 1, ..., n - 1")
        check_state_array(self.idf_, "idf_", (len(vocabulary),))

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "_tfidf" in state:  # pickled by arabictopics < 0.3, when this class extended scikit-learn's
            state = {name: state[name] for name in self._get_param_names() if name in state} | {
                "vocabulary_": state["vocabulary_"],
                "idf_": np.asarray(state["_tfidf"].idf_, dtype=np.float64),
            }
        super().__setstate__(state)

    def _check_params(self) -> None:
        if not callable(self.analyzer):
            raise ValueError(
                f"analyzer must be a callable (document -> tokens), got {self.analyzer!r}; for scikit-learn's "
                "string analyzers ('word', 'char_wb', n-grams) use sklearn's TfidfVectorizer."
            )
        if self.norm not in ("l1", "l2", None):
            raise ValueError(f"norm must be 'l1', 'l2' or None, got {self.norm!r}.")
        for name in ("min_df", "max_df"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ValueError(f"{name} must be an int or a float, got {value!r}.")
            if value < 0 or (isinstance(value, (float, np.floating)) and value > 1):
                raise ValueError(f"{name} must be a count (int >= 0) or a share of documents (float in [0, 1]).")
        if self.max_features is not None and (isinstance(self.max_features, bool) or self.max_features < 1):
            raise ValueError(f"max_features must be a positive int or None, got {self.max_features!r}.")

    def _token_ids(self, docs: list[str], vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
        """Each document's vocabulary indices, concatenated, and where each document ends (CSR layout)."""
        if self._fast():
            indices, ends = _word_pass(self._word_map(vocabulary), docs, separator=None)
        else:
            lists = [[vocabulary[t] for t in self.analyzer(doc) if t in vocabulary] for doc in docs]
            indices = np.fromiter(chain.from_iterable(lists), dtype=np.int64)
            ends = np.cumsum([len(ids) for ids in lists], dtype=np.int64)
        return indices, np.concatenate([[0], ends]).astype(np.int64)

    def _learn_vocabulary(self, docs: list[str]) -> dict[str, int]:
        """Tokens kept by ``min_df``, ``max_df`` and ``max_features``, indexed in sorted order."""
        if self.vocabulary is not None:
            return _fixed_vocabulary(self.vocabulary)
        seen: dict[str, int] = {}  # every token, numbered in order of first sight
        tokens_of = self._word_cache((seen,), _analyze_word) if self._fast() else None
        number = seen.setdefault
        ids, lengths = array("q"), array("q")
        for doc in docs:
            tokens = (
                chain.from_iterable(map(tokens_of.__getitem__, doc.split()))
                if tokens_of is not None
                else (self.analyzer(doc))
            )
            before = len(ids)
            ids.extend(number(t, len(seen)) for t in tokens)
            lengths.append(len(ids) - before)
        self.__dict__.pop("_words", None)  # the cache above maps words to tokens, not to indices
        if not seen:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        ids = np.frombuffer(ids, dtype=np.int64)
        rows = np.repeat(np.arange(len(docs)), np.frombuffer(lengths, dtype=np.int64))
        term_count = np.bincount(ids, minlength=len(seen))
        doc_count = np.bincount(np.unique(rows * len(seen) + ids) % len(seen), minlength=len(seen))
        n_docs = len(docs)
        high = self.max_df if isinstance(self.max_df, (int, np.integer)) else self.max_df * n_docs
        low = self.min_df if isinstance(self.min_df, (int, np.integer)) else self.min_df * n_docs
        if high < low:
            raise ValueError("max_df corresponds to < documents than min_df")
        keep = np.flatnonzero((doc_count >= low) & (doc_count <= high))
        if self.max_features is not None and len(keep) > self.max_features:
            keep = keep[np.argsort(-term_count[keep], kind="stable")[: self.max_features]]
        if not len(keep):
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        names = list(seen)
        return {term: i for i, term in enumerate(sorted(names[k] for k in keep))}

    def fit(self, raw_documents: Iterable[str], y: Any = None) -> ArabicTfidfVectorizer:
        """Learn the vocabulary and the idf of each term.  Returns ``self``."""
        self._check_params()
        docs = check_texts(raw_documents)
        vocabulary = self._learn_vocabulary(docs)
        counts = self._count_ids(*self._token_ids(docs, vocabulary), n_features=len(vocabulary))
        n_docs, doc_freq = counts.shape[0], np.bincount(counts.indices, minlength=len(vocabulary))
        if self.smooth_idf:
            n_docs, doc_freq = n_docs + 1, doc_freq + 1
        self.vocabulary_ = vocabulary
        self.idf_ = np.log(n_docs / doc_freq) + 1.0 if self.use_idf else np.ones(len(vocabulary))
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The terms, in column order."""
        check_is_fitted(self, "vocabulary_")
        names = np.empty(len(self.vocabulary_), dtype=object)
        for term, index in self.vocabulary_.items():
            names[index] = term
        return names

    def transform(self, raw_documents: Iterable[str]) -> Any:
        """TF-IDF rows of documents: a ``scipy.sparse.csr_matrix`` of shape (n_documents, n_terms)."""
        check_is_fitted(self, "idf_")
        if isinstance(raw_documents, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        docs = raw_documents if isinstance(raw_documents, list) else list(raw_documents)
        return self._weigh(self._count_ids(*self._token_ids(docs, self.vocabulary_))).to_scipy()

    def _word_map(self, vocabulary: dict[str, int] | None = None) -> _WordCache:
        """Cleaned word -> the vocabulary indices of its tokens."""
        vocabulary = self.vocabulary_ if vocabulary is None else vocabulary
        return self._word_cache(
            (vocabulary,), lambda word: tuple(vocabulary[t] for t in _analyze_word(word) if t in vocabulary)
        )

    def _count_ids(self, indices: np.ndarray, indptr: np.ndarray, n_features: int | None = None) -> Rows:
        """Term counts from each document's vocabulary indices (CSR layout)."""
        n_features = len(self.vocabulary_) if n_features is None else n_features
        counts = count_ranges(indices, indptr[:-1], indptr[1:], n_features)
        counts.data = counts.data.astype(self.dtype, copy=False)
        return counts

    def _weigh(self, counts: Rows) -> Rows:
        """TF-IDF rows from term counts (``counts`` is changed in place).

        Counts add up: the counts of a passage are those of its
        sentences' words together, so a passage's row is ``_weigh`` of them."""
        counts.data = self._tf(counts.data)
        if self.use_idf:
            counts.data *= self.idf_[counts.indices].astype(self.dtype, copy=False)
        if self.norm is not None:
            _normalize_rows(counts, self.norm)
        return counts

    def _tf(self, counts: np.ndarray) -> np.ndarray:
        """Term frequencies of counts: 1 (``binary``), ``1 + log(count)``
        (``sublinear_tf``) or the count."""
        if self.binary:
            return np.ones_like(counts)
        if self.sublinear_tf:
            return np.log(counts) + 1.0
        return counts

    def _idf(self) -> np.ndarray:
        """The idf of each term, or ones without ``use_idf``."""
        return self.idf_ if self.use_idf else np.ones(len(self.idf_))

    def _token_weights(self, weights: np.ndarray) -> np.ndarray:
        """What one occurrence of each term adds to a row, before term
        frequency and norm, one output per row (k + 1, n_terms): ``idf *
        weights`` for each of the ``k`` columns of ``weights`` (n_terms, k),
        then the term's part of the row's size (``idf ** 2`` for the l2
        norm, ``idf`` for l1).  See :meth:`_scores`."""
        idf = self._idf()
        size = idf**2 if self.norm == "l2" else idf
        return np.ascontiguousarray(np.vstack([np.asarray(weights).T * idf, size]), dtype=np.float64)

    def _scores(self, counts: Rows, token_sums: np.ndarray, token_weights: np.ndarray) -> np.ndarray:
        """``_weigh(counts) @ weights`` (n_rows, k), without a pass over every
        stored entry.

        ``token_weights`` is :meth:`_token_weights` of ``weights``, and
        ``token_sums`` (k + 1, n_rows) its sum over each row's words, one
        term per occurrence: the row's product and size as if every term
        frequency were the term's count.  Only the terms a row holds more
        than once have another frequency (and another square), and only
        they are looked up again.  ``counts`` is not changed.
        """
        idf = self._idf()
        sums = np.array(token_sums, dtype=np.float64)
        repeated = np.flatnonzero(counts.data > 1)
        if len(repeated):
            count = counts.data[repeated]
            tf = self._tf(count)
            terms = counts.indices[repeated]
            rows = np.searchsorted(counts.indptr, repeated, side="right") - 1  # ascending
            starts = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]]))
            part = np.take(token_weights, terms, axis=1) * (count - tf)  # one occurrence: idf * w
            if self.norm == "l2":
                part[-1] = (count - tf**2) * idf[terms] ** 2
            sums[:, rows[starts]] -= np.add.reduceat(part, starts, axis=1)
        out, size = sums[:-1], sums[-1]
        if self.norm is not None:
            if self.norm == "l2":
                size = np.sqrt(np.maximum(size, 0.0))
            size[counts.row_lengths() == 0] = 1.0
            out /= size
        return out.T

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


def _fixed_vocabulary(vocabulary: Any) -> dict[str, int]:
    """A user's vocabulary (a mapping term -> index, or terms in order), checked."""
    if isinstance(vocabulary, str):
        raise ValueError("vocabulary must be a mapping or an iterable of terms, not a string.")
    fixed = dict(vocabulary) if hasattr(vocabulary, "items") else {t: i for i, t in enumerate(vocabulary)}
    if sorted(fixed.values()) != list(range(len(fixed))):
        raise ValueError("vocabulary indices must be 0, 1, ..., n-1, each once.")
    if not fixed:
        raise ValueError("empty vocabulary passed to fit")
    return fixed


class KeyphraseCounter(_CachesWords, TransformerMixin, BaseEstimator):
    """One feature per theme: how often the theme's key phrases occur.

    Each phrase is analyzed like the text (:func:`arabictopics.text.analyze`:
    normalized, stop words dropped, light-stemmed), so «الإرهاب»,
    «والإرهابيين» and «للإرهاب» all match the phrase «الإرهاب», and a
    phrase of several words matches those stems in a row.  The feature is
    ``weight * log(1 + count)``.

    Why: a theme's vocabulary in real news is wider than any training set,
    and a linear model spreads its weight over the words it happened to see
    together.  Pooling a curated list of unambiguous phrases into one
    feature lets a phrase the training articles used rarely still count in
    full.  The model learns how far to trust each pooled feature.

    Parameters
    ----------
    lexicon : dict of str to list of str, or None, default=None
        Phrases per feature name; ``None`` means the default taxonomy's
        keywords (:func:`arabictopics.taxonomy.theme_keywords`).
    weight : float, default=0.1
        Scale of the features next to the unit-length TF-IDF rows (0.1 was
        best of 0.05-0.5 by cross-validated F1 on the fixtures).

    Attributes
    ----------
    names_ : list of str
        Feature names, in column order.
    phrases_ : dict of tuple of int to tuple of int
        Analyzed phrase (as phrase-token ids) -> the columns it counts for.

    Examples
    --------
    >>> kc = KeyphraseCounter({"drugs": ["المخدرات"], "drones": ["طائرة مسيرة"]}, weight=1.0).fit([])
    >>> kc.transform(["ضبط مخدرات واعتراض طائرات مسيرة وتفريق مسيرة احتجاجية"]).toarray().round(2).tolist()
    [[0.69, 0.69]]
    """

    _state_attributes = ("names_", "token_ids_", "phrases_")
    #: Longest phrase a model file may hold, in tokens.
    MAX_PHRASE_TOKENS = 8

    def __init__(self, lexicon: dict[str, Any] | None = None, *, weight: float = 0.1):
        self.lexicon = lexicon
        self.weight = weight

    def _check_state(self) -> None:
        if isinstance(self.weight, bool) or not isinstance(self.weight, (int, float)) or not np.isfinite(self.weight):
            raise ValueError(f"weight must be a finite number, got {self.weight!r}")
        names, token_ids, phrases = self.names_, self.token_ids_, self.phrases_
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ValueError("names_ must be a list of str")
        if not isinstance(token_ids, dict) or not all(isinstance(token, str) for token in token_ids):
            raise ValueError("token_ids_ must map tokens (str) to ids")
        if sorted(token_ids.values()) != list(range(len(token_ids))):
            raise ValueError("token_ids_ must number its tokens 0, 1, ..., n - 1")
        if not isinstance(phrases, dict):
            raise ValueError("phrases_ must map phrases to columns")
        for key, columns in phrases.items():
            if (
                not isinstance(key, tuple)
                or not 1 <= len(key) <= self.MAX_PHRASE_TOKENS
                or not isinstance(columns, tuple)
                or not columns
            ):
                raise ValueError("phrases_ must map tuples of 1 to 8 token ids to non-empty tuples of columns")
            for token in key:
                check_state_int(token, "a phrase token id", 0, len(token_ids) - 1)
            for column in columns:
                check_state_int(column, "a phrase column", 0, len(names) - 1)

    def fit(self, X: Iterable[str], y: Any = None) -> KeyphraseCounter:
        """Analyze the phrases; the documents are not used.  Returns ``self``."""
        from .taxonomy import theme_keywords

        lexicon = self.lexicon if self.lexicon is not None else theme_keywords()
        token_ids: dict[str, int] = {}
        phrases: dict[tuple[int, ...], set[int]] = {}
        for column, name in enumerate(lexicon):
            for phrase in lexicon[name]:
                tokens = analyze(clean(phrase))
                if tokens:
                    key = tuple(token_ids.setdefault(t, len(token_ids)) for t in tokens)
                    phrases.setdefault(key, set()).add(column)
        self.names_ = [str(name) for name in lexicon]
        self.token_ids_ = token_ids
        self.phrases_ = {key: tuple(sorted(columns)) for key, columns in phrases.items()}
        return self

    def _codes(self) -> dict[int, dict[int, tuple[int, ...]]]:
        """Phrase length -> {phrase code: columns}; a code packs the
        phrase's token ids in base ``len(token_ids_)``."""
        base = max(len(self.token_ids_), 1)
        by_length: dict[int, dict[int, tuple[int, ...]]] = {}
        for key, columns in self.phrases_.items():
            code = 0
            for token in key:
                code = code * base + token
            by_length.setdefault(len(key), {})[code] = columns
        return by_length

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "names_")
        return np.asarray([f"keyphrases:{name}" for name in self.names_], dtype=object)

    def transform(self, X: Iterable[str]):
        """Count the phrases in cleaned documents.

        Parameters
        ----------
        X : iterable of str
            Output of :class:`ArabicPreprocessor`.

        Returns
        -------
        sparse matrix of shape (n_documents, n_names)
        """
        check_is_fitted(self, "phrases_")
        sequence, ends = _word_pass(self._word_map(), X, separator=-1)
        columns, bounds = self._occurrences(sequence, ends)
        return self._weigh(count_ranges(columns, bounds[:-1], bounds[1:], len(self.names_))).to_scipy()

    def _word_map(self) -> _WordCache:
        """Cleaned word -> its phrase-token ids (-1 for a token in no phrase)."""
        token_ids = self.token_ids_
        return self._word_cache((token_ids,), lambda word: tuple(token_ids.get(t, -1) for t in _analyze_word(word)))

    def _occurrences(self, seq: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The columns of every phrase found in the documents' phrase-token
        ids in a row (-1 between documents and for every word in no phrase,
        so no phrase spans either; ``ends[i]`` is where document ``i``
        stops), document by document, and where each document's start
        (``bounds[i]:bounds[i + 1]``)."""
        n_docs = len(ends)
        base = max(len(self.token_ids_), 1)
        found_at: list[np.ndarray] = []
        found_columns: list[np.ndarray] = []
        for n, table in self._codes().items():
            if len(seq) < n:
                continue
            windows = np.lib.stride_tricks.sliding_window_view(seq, n)
            codes = np.zeros(len(windows), dtype=np.int64)
            for k in range(n):
                codes = codes * base + windows[:, k]
            valid = (windows >= 0).all(axis=1)
            positions = np.flatnonzero(valid & np.isin(codes, np.fromiter(table, dtype=np.int64)))
            if len(positions):
                columns = [table[int(code)] for code in codes[positions]]
                found_at.append(np.repeat(positions, [len(c) for c in columns]))
                found_columns.append(np.fromiter((c for cs in columns for c in cs), dtype=np.int64))
        at = np.concatenate(found_at) if found_at else np.zeros(0, dtype=np.int64)
        columns = np.concatenate(found_columns) if found_columns else np.zeros(0, dtype=np.int64)
        order = np.argsort(at, kind="stable")
        doc_of = np.searchsorted(ends, at[order], side="right")
        bounds = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(doc_of, minlength=n_docs), out=bounds[1:])
        return columns[order], bounds

    def _weigh(self, counts: Rows) -> Rows:
        """Features from phrase counts (``counts`` is changed in place)."""
        counts.data = self.weight * np.log1p(counts.data)
        return counts

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


def _word_pass(lookup_map: dict, docs: Iterable[str], separator: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate ``lookup_map[word]`` over the whitespace-separated words
    of every document (plus ``separator`` after each, when given); returns
    the ids and where each document ends.  ``map``/``chain`` keep the loop
    in C: no Python frame per word."""
    if isinstance(docs, str):
        raise ValueError("Iterable over raw text documents expected, string object received.")
    ids: list[int] = []
    ends: list[int] = []
    lookup = lookup_map.__getitem__
    for doc in docs:
        ids += chain.from_iterable(map(lookup, doc.split()))
        if separator is not None:
            ids.append(separator)
        ends.append(len(ids))
    return np.asarray(ids, dtype=np.int64), np.asarray(ends, dtype=np.int64)


class ThemeFeatures(_CachesWords, TransformerMixin, BaseEstimator):
    """TF-IDF columns followed by key-phrase columns, in one pass over the words.

    Equivalent to a :class:`~sklearn.pipeline.FeatureUnion` of
    ``tfidf`` and ``keyphrases`` (same matrix), but each word of a document
    is looked up once for both: the key-phrase features then cost almost
    nothing at scoring time.

    Parameters
    ----------
    tfidf : ArabicTfidfVectorizer or None, default=None
        ``None``: ``make_vectorizer(keyphrases=False)``.
    keyphrases : KeyphraseCounter or None, default=None
        ``None``: ``KeyphraseCounter()`` (the default taxonomy's keywords).

    Attributes
    ----------
    tfidf_, keyphrases_ : the fitted parts.
    """

    _state_attributes = ("tfidf_", "keyphrases_")

    def __init__(self, tfidf: Any = None, keyphrases: Any = None):
        self.tfidf = tfidf
        self.keyphrases = keyphrases

    def _check_state(self) -> None:
        for name in self._state_attributes:
            if not hasattr(getattr(self, name, None), "transform"):
                raise ValueError(f"{name} must be a fitted transformer")

    def fit(self, X: Iterable[str], y: Any = None) -> ThemeFeatures:
        """Fit both parts on cleaned documents.  Returns ``self``."""
        docs = check_texts(X)
        self.tfidf_ = clone(self.tfidf) if self.tfidf is not None else make_vectorizer(keyphrases=False)
        self.keyphrases_ = clone(self.keyphrases) if self.keyphrases is not None else KeyphraseCounter()
        self.tfidf_.fit(docs)
        self.keyphrases_.fit(docs)
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "tfidf_")
        return np.concatenate([self.tfidf_.get_feature_names_out(), self.keyphrases_.get_feature_names_out()])

    def transform(self, X: Iterable[str]):
        """Features of cleaned documents, shape (n_documents, n_terms + n_keyphrase_columns)."""
        check_is_fitted(self, "tfidf_")
        if isinstance(X, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        X = X if isinstance(X, list) else list(X)
        if not self._additive():
            import scipy.sparse as sp

            return sp.hstack([self.tfidf_.transform(X), self.keyphrases_.transform(X)], format="csr")
        return self._weigh(self._count(X)).to_scipy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    def _additive(self) -> bool:
        """Whether features come from counts that add up over a document's
        pieces (:meth:`_count` / :meth:`_weigh`)."""
        return isinstance(self.tfidf_, ArabicTfidfVectorizer) and self.tfidf_._fast()

    def _sequences(self, X: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One pass over the words of cleaned documents: every document's
        TF-IDF term ids in a row and where each document's start and end
        (``term_bounds[i]:term_bounds[i + 1]``), and the same of the
        key-phrase columns found (``phrase_bounds``).  Counts of any run of
        consecutive documents are then :func:`count_ranges` of these."""
        terms, phrase_tokens = self.tfidf_.vocabulary_, self.keyphrases_.token_ids_

        def joint_ids(word: str) -> tuple[int, ...]:
            # TF-IDF ids (>= 0), then phrase-token codes (-2 - id, or -1 for a token in no phrase):
            # both parts from one analysis and one dict lookup per word.
            tokens = _analyze_word(word)
            return tuple(terms[t] for t in tokens if t in terms) + tuple(
                -2 - phrase_tokens[t] if t in phrase_tokens else -1 for t in tokens
            )

        ids, ends = _word_pass(self._word_cache((terms, phrase_tokens), joint_ids), X, separator=-1)
        is_term = ids >= 0
        term_bounds = np.zeros(len(ends) + 1, dtype=np.int64)
        phrase_ends = np.zeros(len(ends), dtype=np.int64)
        if len(ids):
            term_bounds[1:] = np.cumsum(is_term)[ends - 1]
            phrase_ends = np.cumsum(~is_term)[ends - 1]
        phrase_seq = ids[~is_term]
        phrase_seq = np.where(phrase_seq <= -2, -2 - phrase_seq, -1)
        columns, phrase_bounds = self.keyphrases_._occurrences(phrase_seq, phrase_ends)
        return ids[is_term], term_bounds, columns, phrase_bounds

    def _count(self, X: list[str]) -> tuple[Rows, Rows]:
        """Term counts and phrase counts of cleaned documents, in one pass over the words."""
        term_ids, term_bounds, columns, phrase_bounds = self._sequences(X)
        return (
            count_ranges(term_ids, term_bounds[:-1], term_bounds[1:], len(self.tfidf_.vocabulary_)),
            count_ranges(columns, phrase_bounds[:-1], phrase_bounds[1:], len(self.keyphrases_.names_)),
        )

    def _weigh(self, counts: tuple[Rows, Rows], row_scale: np.ndarray | None = None) -> Rows:
        """Features from :meth:`_count`'s counts (which are changed in place);
        ``row_scale`` multiplies each row's TF-IDF part."""
        terms, phrases = counts
        tfidf = self.tfidf_._weigh(terms)
        if row_scale is not None:
            tfidf.data *= np.repeat(row_scale, tfidf.row_lengths())
        return hstack(tfidf, self.keyphrases_._weigh(phrases))

    def _scores(
        self,
        counts: tuple[Rows, Rows],
        token_sums: np.ndarray,
        coef: np.ndarray,
        token_weights: np.ndarray,
        row_scale: np.ndarray | None = None,
    ) -> np.ndarray:
        """``_weigh(counts, row_scale) @ coef.T`` (n_rows, n_outputs), by way
        of :meth:`ArabicTfidfVectorizer._scores`: ``token_sums`` are sums of
        ``token_weights``, :meth:`_token_weights` of ``coef``.  ``counts``
        are not changed."""
        terms, phrases = counts
        n_terms = len(self.tfidf_.vocabulary_)
        out = self.tfidf_._scores(terms, token_sums, token_weights)
        if row_scale is not None:
            out *= row_scale[:, None]
        return out + self.keyphrases_._weigh(phrases.copy()) @ coef[:, n_terms:].T

    def _token_weights(self, coef: np.ndarray) -> np.ndarray:
        """What one occurrence of each term adds to :meth:`_scores` (see
        :meth:`ArabicTfidfVectorizer._token_weights`)."""
        return self.tfidf_._token_weights(coef[:, : len(self.tfidf_.vocabulary_)].T)


def make_vectorizer(*, keyphrases: bool = True, **params: Any) -> Any:
    """The features of the default model, from cleaned text.

    TF-IDF of light-stemmed word unigrams (:class:`ArabicTfidfVectorizer`
    with :func:`arabictopics.text.analyze`, sublinear term frequency, terms
    seen in at least 0.2% of the training articles: 5 of the 2,205 fixtures,
    1 of a few hundred) beside the pooled key-phrase
    counts of :class:`KeyphraseCounter`, joined by :class:`ThemeFeatures`.  ``training/tune.py`` compared
    these with word 1-2-grams and character n-grams (see
    ``training/tuning.md``).

    Parameters
    ----------
    keyphrases : bool, default=True
        Add the key-phrase features; ``False`` returns the TF-IDF
        vectorizer alone.
    **params
        Overrides for :class:`ArabicTfidfVectorizer`.

    Returns
    -------
    ThemeFeatures or ArabicTfidfVectorizer

    Examples
    --------
    >>> v = make_vectorizer(min_df=1).fit(  # 'ضبط' is in every document: max_df drops it
    ...     ["ضبط شحنة مخدرات", "ضبط شبكة تهريب"])
    >>> v.get_feature_names_out()[:4].tolist()
    ['تهريب', 'شبك', 'شحن', 'مخدر']
    >>> v.get_feature_names_out()[4:7].tolist()
    ['keyphrases:cybercrime', 'keyphrases:drones', 'keyphrases:drugs']
    """
    options: dict[str, Any] = {
        "analyzer": analyze,
        "sublinear_tf": True,
        "min_df": 0.002,
        "max_df": 0.95,
    }
    options.update(params)
    tfidf = ArabicTfidfVectorizer(**options)
    if not keyphrases:
        return tfidf
    return ThemeFeatures(tfidf, KeyphraseCounter())
