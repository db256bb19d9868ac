"""From raw articles to TF-IDF features.

:class:`ArabicPreprocessor` is a stateless scikit-learn transformer (raw
text in, :func:`arabictopics.text.clean` text out) and :func:`make_vectorizer`
builds the :class:`~sklearn.feature_extraction.text.TfidfVectorizer` whose
analyzer is :func:`arabictopics.text.analyze`.  Both plug into a
:class:`~sklearn.pipeline.Pipeline`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from .exceptions import InputError
from .text import analyze, clean

__all__ = ["DEFAULT_MAX_CHARS", "ArabicPreprocessor", "check_texts", "make_vectorizer"]

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags


def make_vectorizer(**params: Any) -> TfidfVectorizer:
    """The TF-IDF vectorizer of the default model.

    Word unigrams of light-stemmed tokens (:func:`arabictopics.text.analyze`),
    sublinear term frequency, terms seen in at least two training articles.
    ``training/tune.py`` compared this with word 1-2-grams and character
    n-grams (see ``training/tuning.md``).

    Parameters
    ----------
    **params
        Overrides for :class:`~sklearn.feature_extraction.text.TfidfVectorizer`.

    Returns
    -------
    TfidfVectorizer

    Examples
    --------
    >>> v = make_vectorizer(min_df=1).fit(  # 'ضبط' is in every document: max_df drops it
    ...     ["ضبط شحنة مخدرات", "ضبط شبكة تهريب"])
    >>> sorted(v.vocabulary_)
    ['تهريب', 'شبك', 'شحن', 'مخدر']
    """
    options: dict[str, Any] = {
        "analyzer": analyze,
        "sublinear_tf": True,
        "min_df": 2,
        "max_df": 0.95,
    }
    options.update(params)
    return TfidfVectorizer(**options)
