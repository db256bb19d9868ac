"""Arabic news text: HTML and boilerplate removal, normalization, tokens.

Small pure functions, one job each, in the order :func:`clean` applies them:

1. :func:`strip_html` -- tags, scripts and styles out, entities decoded;
2. :func:`strip_boilerplate` -- read-also blocks, tag lists, source and
   share lines, logo lines;
3. :func:`normalize` -- one spelling per word (alef forms, yeh, Persian
   letters, diacritics, tatweel, digits, punctuation, invisible controls);
4. :func:`strip_links` -- URLs, e-mails and @mentions out, hashtags kept as
   words.

:func:`analyze` turns cleaned text into the feature tokens the model counts
(:func:`tokenize`, :data:`STOP_WORDS` removed, :func:`light_stem`).

Everything here is plain ``str -> str`` (or ``str -> list[str]``) with
module-level compiled regexes, so the functions pickle, run in any thread and
cost no set-up per call.
"""

from __future__ import annotations

import html
import re
import unicodedata

from .charsets import ALEF_FORMS, DIACRITICS, FOLD_MAP, TATWEEL

__all__ = [
    "STOP_WORDS",
    "analyze",
    "article_spans",
    "clean",
    "light_stem",
    "normalize",
    "sentence_spans",
    "split_sentences",
    "strip_boilerplate",
    "strip_html",
    "strip_links",
    "tokenize",
]

# --------------------------------------------------------------------------
# normalize
# --------------------------------------------------------------------------

# The five characters that make up ~95% of the folds in real news (hamza
# alefs, alef maksura, the Arabic comma) are replaced with ``str.replace``,
# one C-level pass each; everything else in FOLD_MAP goes through one
# character class replaced via a dict lookup, run only when the text contains
# one of those characters.  On 3,000 real articles this is ~2x faster than
# the character class alone and ~4x faster than ``str.translate`` with the
# same table (CPython translates non-ASCII text character by character
# through the dict); chaining pyarabic's ``strip_tashkeel`` /
# ``normalize_hamza`` / ``strip_tatweel`` walks the text once per function,
# and ``normalize_hamza`` folds more than we want (it rewrites ؤ and ئ too).
# No replacement contains a folded character, so the order is irrelevant.
_FREQUENT_FOLDS = tuple((c, FOLD_MAP[c]) for c in ("\u0623", "\u060c", "\u0649", "\u0625", "\u0622"))
_RARE_FOLD_RE = re.compile(
    "[" + "".join(re.escape(c) for c in sorted(set(FOLD_MAP) - {c for c, _ in _FREQUENT_FOLDS})) + "]"
)
_fold_char = FOLD_MAP.__getitem__


def _fold(match: re.Match[str]) -> str:
    return _fold_char(match.group())


_NFKC_PIECE = 1024


def _nfkc(text: str) -> str:
    """Unicode NFKC, line by line, and a long line piece by piece.

    Most lines of news are already NFKC (a quick check), and one line that
    is not should not cost a full normalization of the whole text.  A long
    line is normalized in pieces of about ``_NFKC_PIECE`` characters cut
    after a space: a space composes with nothing, so the result is
    ``unicodedata.normalize("NFKC", text)``.  Only where no space comes
    within 64 characters of the mark (a run of thousands of combining
    marks, which NFKC reorders in quadratic time) is the piece cut anyway.
    """
    if unicodedata.is_normalized("NFKC", text):
        return text
    return "\n".join(_nfkc_line(line) for line in text.split("\n"))


def _nfkc_line(line: str) -> str:
    if unicodedata.is_normalized("NFKC", line):
        return line
    if len(line) <= _NFKC_PIECE:
        return unicodedata.normalize("NFKC", line)
    pieces = []
    start = 0
    while start < len(line):
        end = start + _NFKC_PIECE
        if end < len(line):
            space = line.find(" ", end, end + 64)
            end = space + 1 if space >= 0 else end
        pieces.append(unicodedata.normalize("NFKC", line[start:end]))
        start = end
    return "".join(pieces)


def normalize(text: str) -> str:
    """Fold Arabic spelling variants so that one word has one form.

    Applies, in order: Unicode NFKC (decomposes lam-alef ligatures and the
    presentation forms U+FB50-U+FEFF, folds full-width Latin), then one
    character map (:data:`arabictopics.charsets.FOLD_MAP`) that deletes
    diacritics, tatweel, zero-width and bidi controls, folds alef forms
    (أ إ آ ٱ) to ا, ى to ي, Persian/Urdu look-alikes (ی ک ە ۀ) to Arabic
    letters, Eastern-Arabic and Persian digits to ASCII and Arabic punctuation
    to Latin, and finally lower-cases Latin letters.  Teh marbuta (ة) is kept;
    folding it to ه changed cross-validated F1 by less than one point
    (``training/tuning.md``), a call left to the real-news development set.

    Parameters
    ----------
    text : str
        Raw text.

    Returns
    -------
    str
        The folded text.  ``normalize(normalize(t)) == normalize(t)``.

    Examples
    --------
    >>> normalize("أعلنَ وزيرُ الداخلیة عام ٢٠١٧")
    'اعلن وزير الداخلية عام 2017'
    >>> normalize("ﻻ إلـــه")
    'لا اله'
    >>> normalize("هل انتهى؟ نعم، UAV")
    'هل انتهي? نعم, uav'
    """
    text = _nfkc(text)
    for char, replacement in _FREQUENT_FOLDS:
        text = text.replace(char, replacement)
    if _RARE_FOLD_RE.search(text) is not None:
        text = _RARE_FOLD_RE.sub(_fold, text)
    return text.lower()


# --------------------------------------------------------------------------
# strip_html
# --------------------------------------------------------------------------

# Openers of the blocks whose content is never article text.  The closer is
# searched from the opener on (an unclosed block runs to the end, as in a
# browser), so the whole scan is linear: a lazy ``.*?`` regex would rescan to
# the end of the text for every unclosed opener.
_HTML_DROP_OPEN_RE = re.compile(r"<(script|style|noscript|template)\b[^<>]*>|<!--", re.IGNORECASE)
_HTML_DROP_CLOSE_RE = {
    name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in ("script", "style", "noscript", "template")
}
_HTML_BLOCK_RE = re.compile(
    r"</?(?:p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|section|article|header|footer|blockquote)\b[^<>]*>",
    re.IGNORECASE,
)
_HTML_TAG_RE = re.compile(r"</?[a-zA-Z][^<>]*>")  # [^<>]: an unclosed "<tag" costs one scan to the next "<"
_HTML_HINT_RE = re.compile(r"<[a-zA-Z/!]|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


def _drop_blocks(text: str) -> str:
    """Replace scripts, styles, templates and comments by a space, in one pass."""
    pieces = []
    position = 0
    while (opener := _HTML_DROP_OPEN_RE.search(text, position)) is not None:
        pieces.append(text[position : opener.start()])
        if opener.group(1) is None:  # a comment
            end = text.find("-->", opener.end())
            position = len(text) if end < 0 else end + 3
        else:
            closer = _HTML_DROP_CLOSE_RE[opener.group(1).lower()].search(text, opener.end())
            position = len(text) if closer is None else closer.end()
        pieces.append(" ")
    pieces.append(text[position:])
    return "".join(pieces)


def strip_html(text: str) -> str:
    """Remove HTML markup: scripts, styles and comments with their content,
    tags (block tags become line breaks), and decode entities.

    Text without markup is returned unchanged.

    Parameters
    ----------
    text : str
        Text that may contain HTML.

    Returns
    -------
    str
        Plain text.

    Examples
    --------
    >>> strip_html("<p>وزير&nbsp;الداخلية</p><script>var x=1;</script>")
    '\\nوزير\\xa0الداخلية\\n '
    >>> strip_html("نص عادي")
    'نص عادي'
    """
    if not _HTML_HINT_RE.search(text):
        return text
    text = _drop_blocks(text)
    text = _HTML_BLOCK_RE.sub("\n", text)
    text = _HTML_TAG_RE.sub(" ", text)
    return html.unescape(text)


# --------------------------------------------------------------------------
# strip_boilerplate
# --------------------------------------------------------------------------

_MARKS = "[" + "".join(sorted(DIACRITICS)) + TATWEEL + "]*"
_LETTER_CLASSES = {
    "ا": "[ا" + "".join(sorted(ALEF_FORMS)) + "]",
    "ي": "[يىی]",
    "ى": "[يىی]",
    "ه": "[هة]",
    "ة": "[هة]",
    "ك": "[كک]",
}


#: One-to-one map applied to a line before a boilerplate pattern reads it:
#: the letter variants a marker phrase tolerates fold to one letter and every
#: diacritic to U+064B (fathatan), so each pattern holds plain letters and a
#: two-character class where the raw patterns hold a letter class and a
#: 53-character class after every letter: they compile in a seventh of the
#: time (0.02 s instead of 0.16 s, once per process that meets boilerplate).
#: Offsets, and whether each character is a word character, are unchanged.
#:
#: >>> "إقرأ أيضاً".translate(_LINE_FOLD)
#: 'اقرا ايضاً'
_LINE_FOLD = str.maketrans(
    {
        **{alef: "ا" for alef in ALEF_FORMS},
        **{mark: "\u064b" for mark in DIACRITICS},
        "ى": "ي",
        "ی": "ي",
        "ة": "ه",
        "ک": "ك",
    }
)
_FOLDED_MARKS = "[\u064b" + TATWEEL + "]*"


def _tolerant(phrase: str, raw: bool = False) -> str:
    """Regex for an Arabic phrase that matches it with or without hamza,
    diacritics, tatweel, Persian letters and with any run of spaces: in a
    line folded by :data:`_LINE_FOLD`, or with ``raw`` in the line as written."""
    parts = []
    for ch in phrase:
        if ch == " ":
            parts.append(r"\s+")
        elif raw:
            parts.append(_LETTER_CLASSES.get(ch, re.escape(ch)) + _MARKS)
        else:
            parts.append(re.escape(ch.translate(_LINE_FOLD)) + _FOLDED_MARKS)
    return "".join(parts)


def _alternation(phrases: tuple[str, ...], head: int | None = None, raw: bool = False) -> str:
    """:func:`_tolerant` of each phrase (of its first ``head`` characters), as alternatives."""
    return "(?:" + "|".join(sorted({_tolerant(p[:head].rstrip(), raw) for p in phrases})) + ")"


#: Characters of a phrase that a guard checks (see :class:`_Guarded`).
_GUARD_HEAD = 5


class _Guarded:
    """A regex compiled on first use, behind a cheap guard that every match also matches.

    Each is built from ``parts(head, raw)``: with ``head=None`` the exact
    pattern, with ``head=5`` the same pattern on the first five characters
    of every phrase.  That relaxation matches every line the exact pattern
    matches (a prefix of a match is a match of the prefix pattern), compiles
    in a fraction of the time, and rejects almost every line it sees; the
    exact pattern is compiled the first time a line passes the guard, so
    results are exactly those of the exact pattern.  Patterns read lines
    folded by :data:`_LINE_FOLD` (``raw=False``); ``parts(head, raw=True)``
    is the same pattern for the line as written.
    """

    def __init__(self, parts, flags: int = 0):
        self._parts = parts
        self._flags = flags
        self._compiled: dict[tuple[int | None, bool], re.Pattern[str]] = {}

    def _pattern(self, head: int | None, raw: bool = False) -> re.Pattern[str]:
        compiled = self._compiled.get((head, raw))
        if compiled is None:  # two threads may both compile it: the same pattern
            compiled = self._compiled[head, raw] = re.compile(self._parts(head, raw), self._flags)
        return compiled

    def match(self, line: str) -> re.Match[str] | None:
        """The match at the start of ``line``, read folded (same offsets)."""
        folded = line.translate(_LINE_FOLD)
        return self._pattern(None).match(folded) if self._pattern(_GUARD_HEAD).match(folded) else None

    def search(self, text: str, pos: int, endpos: int) -> int | None:
        """Where the first match in ``text[pos:endpos]`` starts (an offset
        into ``text``), or ``None``.  The pattern must not look outside the
        match (no anchors, no look-behind): the slice is read on its own."""
        if self._pattern(_GUARD_HEAD, raw=True).search(text, pos, endpos) is None:  # no folding on the way
            return None
        match = self._pattern(None).search(text[pos:endpos].translate(_LINE_FOLD))
        return None if match is None else pos + match.start()


# A line that opens a block of links to other stories: the block and
# everything after it is not the article.
_READ_ALSO = (
    "اقرا ايضا",
    "اقرا المزيد",
    "اقرا كذلك",
    "شاهد ايضا",
    "اخترنا لك",
    "مقالات ذات صله",
    "اخبار ذات صله",
    "مواضيع ذات صله",
    "مقالات متعلقه",
    "اخبار متعلقه",
    "مواضيع متعلقه",
    "المزيد من الاخبار",
    "قد يعجبك ايضا",
)


def _read_also(head: int | None, raw: bool = False) -> str:
    latin = r"(?:read\s+(?:also|more)|related\s+(?:articles|stories|news))" if head is None else "(?:rea|rel)"
    return "(?:" + _alternation(_READ_ALSO, head, raw) + "|" + latin + ")"


_READ_ALSO_RE = _Guarded(
    lambda head, raw: r"^\W*" + _read_also(head, raw) + (r"\W*$" if head is None else ""), re.IGNORECASE
)
# The same words starting a line that carries one linked headline.
_READ_ALSO_INLINE_RE = _Guarded(
    lambda head, raw: r"^\W*" + _read_also(head, raw) + (r"\s*[:：\-–|]" if head is None else ""), re.IGNORECASE
)
# A read-also marker inside a flattened one-line page, followed by a colon.
_READ_ALSO_MIDLINE_RE = _Guarded(
    lambda head, raw: _read_also(head, raw) + (r"\s*[:：]" if head is None else ""), re.IGNORECASE
)
_TAGS = ("كلمات دلاليه", "الكلمات الدلاليه", "كلمات مفتاحيه", "الكلمات المفتاحيه", "الوسوم", "وسوم")
_TAGS_RE = _Guarded(
    lambda head, raw: (
        r"^\W*(?:" + _alternation(_TAGS, head, raw) + (r"|tags|keywords)\s*[:：]?" if head is None else "|tag|key)")
    ),
    re.IGNORECASE,
)
_SOURCE = ("المصدر", "مصدر الخبر")
_SOURCE_RE = _Guarded(
    lambda head, raw: r"^\W*" + _alternation(_SOURCE, head, raw) + (r"\s*[:：\-–]" if head is None else "")
)
_SHARE_WORDS = (
    "طباعه",
    "شارك",
    "شاركها",
    "مشاركه",
    "ارسال",
    "ارسل",
    "تغريد",
    "غرد",
    "فيسبوك",
    "فيس بوك",
    "تويتر",
    "واتساب",
    "واتس اب",
    "تيليجرام",
    "تلغرام",
    "لينكدان",
    "نسخ الرابط",
    "حفظ",
    "البريد الالكتروني",
)
_SHARE_LATIN = ("facebook", "twitter", "whatsapp", "telegram", "linkedin", "print", "share", "email", "x")


def _share(head: int | None, raw: bool = False) -> str:
    """A line made of share buttons (optionally followed by a tag list)."""
    latin = "|".join(sorted({word[:head] for word in _SHARE_LATIN}))
    word = r"(?:" + _alternation(_SHARE_WORDS, head, raw) + "|" + latin + ")"
    if head is not None:
        return r"^\W*" + word
    return r"^\W*" + word + r"(?:[\s|/·•,،\-]+" + word + r")+\b|^\W*" + word + r"\W*$"


_SHARE_RE = _Guarded(_share, re.IGNORECASE)
# A logo line: Latin letters, digits and punctuation only, with the word
# "logo" («DELMON POST LOGO»); or «شعار» and one or two words.  Tested by
# _is_logo_line with one class run and one word search (a single regex with
# both overlapping classes around "logo" backtracked quadratically).
_LATIN_LINE_RE = re.compile(r"[\W\dA-Za-z_]*")
_LOGO_WORD_RE = re.compile(r"\blogo\b", re.IGNORECASE)
_SHIAAR_RE = re.compile(r"\W*شعار(?=\s)")
_NON_WORD_RE = re.compile(r"\W+")
_RIGHTS = ("جميع الحقوق محفوظه", "تابعونا علي", "حقوق النشر")
_RIGHTS_RE = _Guarded(lambda head, raw: r"^\W*(?:©|" + _alternation(_RIGHTS, head, raw) + r")", re.IGNORECASE)
_SENTENCE_END_RE = re.compile(r"[.!?؟。]\s*$")
# Any line that one of the line tests could drop starts with a match of
# this (the guards of every line pattern, and «شعار»), or is a Latin-only
# line (a logo line); every other line is kept after this one test.  The
# leading non-word run is taken whole (an atomic group written as a
# look-ahead and a back-reference): a long run of punctuation is not
# re-tried against every phrase at every position.  «©» anywhere in that run
# is a candidate (the copyright line).  It reads raw lines, with any run of
# non-word characters other than spaces (and tatweel) where the raw patterns
# allow a run of marks: a looser test that compiles in a third of the time,
# once per process at import.
_LOOSE_MARKS = r"(?:[^\w\s]|" + TATWEEL + ")*"
_CANDIDATE_RE = re.compile(
    r"(?=([^\w©]*))\1(?:©|"
    + "|".join(
        pattern._parts(_GUARD_HEAD, True).removeprefix(r"^\W*").replace(_MARKS, _LOOSE_MARKS)
        for pattern in (_READ_ALSO_RE, _READ_ALSO_INLINE_RE, _TAGS_RE, _SOURCE_RE, _SHARE_RE, _RIGHTS_RE)
    )
    + "|شعار)",
    re.IGNORECASE,
)
_MAX_TAG_WORDS = 6
_MAX_SOURCE_WORDS = 12


def _is_logo_line(line: str) -> bool:
    """A logo line (see ``_LATIN_LINE_RE``); linear in the line's length.

    Examples
    --------
    >>> _is_logo_line("DELMON POST LOGO"), _is_logo_line("شعار الوزارة"), _is_logo_line("شعار الحملة هو التعاون")
    (True, True, False)
    """
    if _LOGO_WORD_RE.search(line) and _LATIN_LINE_RE.fullmatch(line):
        return True
    head = _SHIAAR_RE.match(line)
    if head is None:
        return False
    words = line[head.end() :].split()
    return bool(words) and all(_NON_WORD_RE.fullmatch(word) for word in words[2:])


def _is_tag_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and len(stripped.split()) <= _MAX_TAG_WORDS and not _SENTENCE_END_RE.search(stripped)


def _line_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every line of ``text``, without the line break."""
    spans = []
    start = 0
    while (end := text.find("\n", start)) >= 0:
        spans.append((start, end))
        start = end + 1
    spans.append((start, len(text)))
    return spans


def article_spans(text: str) -> list[tuple[int, int]]:
    """Where the article is in a page: the ``(start, end)`` offsets of the
    lines :func:`strip_boilerplate` keeps, in order.

    The offsets point into ``text`` itself, so the article can be quoted as
    written (original letters, diacritics and all); the last span is cut
    where a late read-also marker starts in a flattened one-line page.

    Parameters
    ----------
    text : str
        Article text without HTML (see :func:`strip_html`).

    Returns
    -------
    list of (int, int)

    Examples
    --------
    >>> page = "وزير الداخلية يبحث التعاون\\nطباعة شارك\\nنص الخبر\\nإقرأ أيضاً:\\nخبر آخر"
    >>> [page[a:b] for a, b in article_spans(page)]
    ['وزير الداخلية يبحث التعاون', 'نص الخبر']
    """
    kept: list[tuple[int, int]] = []
    in_tags = False
    seen_chars = 0
    for start, end in _line_spans(text):
        line = text[start:end]
        if not (in_tags or _CANDIDATE_RE.match(line) or _LATIN_LINE_RE.fullmatch(line)):
            kept.append((start, end))  # no test below could drop it
            seen_chars += len(line.strip())
            continue
        if _READ_ALSO_RE.match(line) and seen_chars:
            break
        if in_tags and _is_tag_line(line):
            continue
        in_tags = False
        if _TAGS_RE.match(line):
            in_tags = True
            continue
        if (
            _READ_ALSO_INLINE_RE.match(line)
            or _SHARE_RE.match(line)
            or _is_logo_line(line)
            or _RIGHTS_RE.match(line)
            or (_SOURCE_RE.match(line) and len(line.split()) <= _MAX_SOURCE_WORDS)
        ):
            continue
        kept.append((start, end))
        seen_chars += len(line.strip())
    if len(kept) == 1:  # a flattened page: cut a late read-also marker
        start, end = _trimmed(text, *kept[0])
        cut = _READ_ALSO_MIDLINE_RE.search(text, start + (end - start) // 2, end)
        if cut is not None:
            kept[0] = (start, cut)
    return kept


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` moved inwards past surrounding whitespace."""
    piece = text[start:end]
    stripped = piece.lstrip()
    start += len(piece) - len(stripped)
    return start, start + len(stripped.rstrip())


def strip_boilerplate(text: str) -> str:
    """Remove the page furniture that news sites wrap around an article.

    Line by line:

    * a line that is only a read-also marker («اقرأ أيضاً», «مقالات ذات صلة»,
      …) ends the article: it and everything after it is dropped, because
      such blocks carry other stories;
    * a read-also marker followed by a headline on the same line drops that
      line only; in flattened one-line text a marker with a colon in the
      second half of the text cuts the rest;
    * «كلمات دلالية» / «الوسوم» and the short tag lines after them,
      «المصدر: …» lines, share/print button lines («طباعة شارك»), logo lines
      and copyright/follow-us lines are dropped.

    Markers match with or without hamza, diacritics, tatweel and Persian
    letters, so raw and normalized text are both handled.  The kept lines
    are :func:`article_spans`.

    Parameters
    ----------
    text : str
        Article text, ideally with its line breaks.

    Returns
    -------
    str
        The article without boilerplate; never longer than ``text``.

    Examples
    --------
    >>> strip_boilerplate("وزير الداخلية يبحث التعاون\\nإقرأ أيضاً:\\nخبر آخر لا صلة له")
    'وزير الداخلية يبحث التعاون'
    >>> strip_boilerplate("نص الخبر\\nالمصدر: وكالة الأنباء\\nكلمات دلالية:\\nالإمارات\\nطباعة شارك")
    'نص الخبر'
    """
    return "\n".join(text[start:end] for start, end in article_spans(text)).strip()


# --------------------------------------------------------------------------
# strip_links
# --------------------------------------------------------------------------

# Each pattern runs only when its trigger character or prefix is present.
# The look-behind anchors e-mail matches at the start of a word, so the
# scan stays linear in the text length.
_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_AT_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+|(?<![A-Za-z0-9_.@])@\w+")
_HASHTAG_RE = re.compile(r"#(\w+)")


def _hashtag_words(match: re.Match[str]) -> str:
    return match.group(1).replace("_", " ")


def strip_links(text: str) -> str:
    """Drop URLs, e-mail addresses and @mentions; keep hashtags as words.

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> strip_links("تابعوا @moi_news على https://moi.gov.bh #مكافحة_المخدرات")
    'تابعوا   على   مكافحة المخدرات'
    """
    lowered = text.lower()
    if "http" in lowered or "www" in lowered:
        text = _URL_RE.sub(" ", text)
    if "@" in text:
        text = _AT_RE.sub(" ", text)
    if "#" in text:
        text = _HASHTAG_RE.sub(_hashtag_words, text)
    return text


# --------------------------------------------------------------------------
# clean
# --------------------------------------------------------------------------


def clean(text: str) -> str:
    """Turn a raw article (text or HTML) into normalized article text.

    :func:`strip_html`, :func:`strip_boilerplate`, :func:`normalize` and
    :func:`strip_links`, then runs of spaces collapsed and lines stripped.
    Line breaks are kept so that sentences can still be found.

    Parameters
    ----------
    text : str
        Raw article.

    Returns
    -------
    str
        Clean, normalized text.

    Examples
    --------
    >>> clean("<p>أعلنت وزارة الداخليـــة</p>\\nكلمات دلالية:\\nالأمن")
    'اعلنت وزارة الداخلية'
    """
    text = strip_boilerplate(strip_html(text))
    text = strip_links(normalize(text))
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()


# --------------------------------------------------------------------------
# tokens
# --------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[^\W\d_]{2,}|\d+(?:[.,]\d+)*")

#: Function words, normalized as :func:`normalize` writes them (ا for أ/إ/آ,
#: ي for ى).  They carry no theme, and dropping them raised
#: cross-validated F1 on the fixtures.
STOP_WORDS = frozenset(
    """
    في من علي الي عن مع ان انه انها او ام ثم لم لن قد لا ما ماذا لماذا كيف اين متي هل
    هو هي هم هن انت انتم نحن انا هما كان كانت كانوا يكون تكون يكونون ليس ليست
    هذا هذه ذلك تلك هؤلاء اولئك هنا هناك الذي التي الذين اللذان اللتان اللواتي اللاتي
    كل بعض غير بين حتي اذا اذ لقد لكن لكنه بل كما مثل حيث عند عندما منذ خلال بعد قبل
    فوق تحت امام وراء حول دون ضد نحو لدي عليه عليها اليه اليها منه منها فيه فيها
    به بها لها له لهم بهم منهم فيهم عليهم وهو وهي وهم وقد وان وكان وكانت ولا وما وفي
    ومن وعلي والي وعن ومع او اي ايضا الا الان اما وهذا وهذه ذلك كذلك تم يتم وتم
    الي بان كانه لان لانه بانه فان فانه وانه وانها مما عما فيما بينما كما لما
    اكثر اقل جدا فقط بعد وبعد قال وقال قالت وقالت اضاف واضاف اكد واكد اشار واشار
    اوضح واوضح يوم امس اليوم وذلك ضمن الف مليون
    """.split()
)

_STEM_PREFIX_RE = re.compile(r"^(?:وبال|وكال|وال|فال|بال|كال|ولل|لل|ال)(?=\w{3})")
#: Suffixes cut when at least three letters remain.  The dual and sound
#: plural endings ان/ون/ين are cut only when four letters remain: on a
#: three-letter remainder they are usually part of the word (ادمان "addiction"
#: would become ادم, the stem of آدم "Adam"; قانون "law" -> قان; تامين
#: "insurance" -> تام "complete"), while the plurals they mark on news
#: vocabulary keep four letters or more (مهربين -> مهرب, مدنيين -> مدني).
_STEM_SUFFIX_RE = re.compile(r"(?<=\w{3})(?:ات|ها|هم|هن|كم|نا|ية|ه|ة)$|(?<=\w{4})(?:ان|ون|ين)$")
_stem_cache: dict[str, str] = {}
_STEM_CACHE_MAX = 500_000

#: Place names whose ending looks like a suffix, written as :func:`normalize`
#: writes them and without the article.  Stripping that "suffix" would turn
#: them into common words or other names (البحرين -> بحر "sea", لبنان ->
#: لبن "milk", السودان -> سود "black", طهران -> طهر), so the stemmer keeps
#: them whole, with or without a glued article or preposition.
PLACE_NAMES = frozenset(
    """
    بحرين لبنان سودان ايران فلسطين يونان يابان بلقان طهران وهران تطوان قيروان تطاوين
    حلوان اسوان عمان جازان نجران همدان زنجبار تركمانستان افغانستان باكستان كازاخستان
    اوزبكستان طاجيكستان قرغيزستان كردستان سجستان بلوشستان داغستان شيشان اذربيجان
    """.split()
)


def light_stem(token: str) -> str:
    """Strip the definite article, the prepositions and conjunctions glued
    to it, and common plural, feminine and pronoun suffixes.

    A light stemmer in the spirit of Larkey's light10: no root extraction,
    at least three letters always kept.  Input is a normalized token.

    Parameters
    ----------
    token : str

    Returns
    -------
    str

    Examples
    --------
    >>> light_stem("والمخدرات")
    'مخدر'
    >>> light_stem("للطائرات")
    'طائر'
    >>> light_stem("الامن")
    'امن'
    >>> light_stem("والبحرين"), light_stem("للبنان")  # PLACE_NAMES keep their ending
    ('بحرين', 'لبنان')
    >>> light_stem("الادمان"), light_stem("والمهربين")  # ان/ون/ين only on four letters
    ('ادمان', 'مهرب')
    """
    stem = _stem_cache.get(token)
    if stem is None:
        if token in PLACE_NAMES:
            stem = token
        elif token[:1] in "وفبلك" and token[1:] in PLACE_NAMES:  # ولبنان, للبنان
            stem = token[1:]
        else:
            stem = _STEM_PREFIX_RE.sub("", token)
            if stem not in PLACE_NAMES:
                stem = _STEM_SUFFIX_RE.sub("", stem)
        if len(_stem_cache) >= _STEM_CACHE_MAX:
            _stem_cache.clear()
        _stem_cache[token] = stem
    return stem


def tokenize(text: str) -> list[str]:
    """Split text into word tokens (letters, two or more) and numbers.

    Punctuation, Arabic or Latin, separates tokens; single letters are
    dropped.

    Parameters
    ----------
    text : str
        Normalized text (see :func:`normalize`).

    Returns
    -------
    list of str
        Tokens in order; never an empty token.

    Examples
    --------
    >>> tokenize("وزير الداخلية, في 2024: uav")
    ['وزير', 'الداخلية', 'في', '2024', 'uav']
    """
    return _TOKEN_RE.findall(text)


def _analyze_word(word: str) -> tuple[str, ...]:
    return tuple(light_stem(t) for t in _TOKEN_RE.findall(word) if t not in STOP_WORDS)


# Whitespace-separated words of cleaned text -> their feature tokens.  News
# vocabulary is Zipfian, so nearly every word is a cache hit and analysis
# costs one ``str.split`` and one dict lookup per word; the token regex and
# the stemmer run once per distinct word.  Bounded like the stem cache.
_analysis_cache: dict[str, tuple[str, ...]] = {}
_ANALYSIS_CACHE_MAX = 500_000


def analyze(text: str) -> list[str]:
    """The feature tokens of a cleaned text: :func:`tokenize`, drop
    :data:`STOP_WORDS`, :func:`light_stem`.

    This is the ``analyzer`` of the model's TF-IDF vectorizer.

    Parameters
    ----------
    text : str
        Output of :func:`clean`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> analyze("ضبط شحنة من الكبتاغون في المنفذ")
    ['ضبط', 'شحن', 'كبتاغ', 'منفذ']
    """
    cache = _analysis_cache
    out: list[str] = []
    for word in text.split():
        features = cache.get(word)
        if features is None:
            features = _analyze_word(word)
            if len(cache) >= _ANALYSIS_CACHE_MAX:
                cache.clear()
            cache[word] = features
        out += features
    return out


# --------------------------------------------------------------------------
# sentences
# --------------------------------------------------------------------------

_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?؟])\s+|\n+")
# A sentence: from a non-space character to the first . ! ? ؟ followed by
# whitespace, or else to the last non-space character.  Searched within one
# line, each match consumes what it scanned: linear in the line's length.
_SENTENCE_RE = re.compile(r"\S(?:.*?[.!?؟](?=\s)|.*\S)?")
# Where a run-on sentence may be cut: after a comma or semicolon, Arabic or Latin.
_CLAUSE_END_RE = re.compile(r"[،؛,;](?=\s)")
#: A sentence longer than this many characters is cut into clauses of at
#: least :data:`MIN_CLAUSE_CHARS`: Arabic news runs whole speeches into one
#: sentence joined by «،», and a theme named in one clause of it should be
#: found, and quoted, there.
MAX_SENTENCE_CHARS = 400
MIN_CLAUSE_CHARS = 150


def split_sentences(text: str) -> list[str]:
    """Split text into sentences at ``. ! ? ؟`` and line breaks.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str
        Non-empty, stripped sentences in order.

    Examples
    --------
    >>> split_sentences("ضبطت الشرطة شحنة. وأحالت المتهمين؟\\nسطر جديد")
    ['ضبطت الشرطة شحنة.', 'وأحالت المتهمين؟', 'سطر جديد']
    """
    return [s.strip() for s in _SENTENCE_SPLIT_RE.split(text) if s and s.strip()]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of an article, as ``(start, end)`` offsets into ``text``.

    Only the article's own lines are read (:func:`article_spans`: no
    read-also tail, tag list, share or source line); each line is split
    after ``. ! ? ؟`` followed by whitespace, and every span is trimmed of
    surrounding whitespace.  ``text[start:end]`` is the sentence as written.

    Parameters
    ----------
    text : str
        Article text without HTML (see :func:`strip_html`).

    Returns
    -------
    list of (int, int)
        Non-empty sentences in order.

    Examples
    --------
    >>> page = "ضبط شحنة حشيش\\nأعلنت الشرطة ضبط الشحنة. وأوقفت ثلاثة!\\nكلمات دلالية:\\nمخدرات"
    >>> [page[a:b] for a, b in sentence_spans(page)]
    ['ضبط شحنة حشيش', 'أعلنت الشرطة ضبط الشحنة.', 'وأوقفت ثلاثة!']
    """
    lines = article_spans(text)
    if not lines:
        return []
    spans = []
    k, (line_start, line_end) = 0, lines[0]
    for match in _SENTENCE_RE.finditer(text, line_start, lines[-1][1]):  # no match crosses a line break
        start, end = match.span()
        while start >= line_end:
            k += 1
            if k == len(lines):
                return spans
            line_start, line_end = lines[k]
        if start < line_start:  # a dropped line
            continue
        if end > line_end:  # the article was cut inside this line
            start, end = _trimmed(text, start, line_end)
            if end <= start:
                continue
        if end - start > MAX_SENTENCE_CHARS:
            spans.extend(_clauses(text, start, end))
        else:
            spans.append((start, end))
    return spans


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A sentence, cut after commas into clauses when it runs longer than
    :data:`MAX_SENTENCE_CHARS` (no clause shorter than :data:`MIN_CLAUSE_CHARS`)."""
    if end - start <= MAX_SENTENCE_CHARS:
        return [(start, end)]
    out = []
    for match in _CLAUSE_END_RE.finditer(text, start, end):
        cut = match.end()
        if cut - start >= MIN_CLAUSE_CHARS and end - cut >= MIN_CLAUSE_CHARS:
            out.append(_trimmed(text, start, cut))
            start = cut
    out.append(_trimmed(text, start, end))
    return out
