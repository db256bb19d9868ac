"""arabictopics.text: one row per phenomenon, plus property tests."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arabictopics import text as text_module
from arabictopics.charsets import FOLD_MAP
from arabictopics.text import (
    STOP_WORDS,
    analyze,
    clean,
    light_stem,
    normalize,
    split_sentences,
    strip_boilerplate,
    strip_html,
    strip_links,
    tokenize,
)

NORMALIZE_CASES = [
    # input, expected, why
    ("الإمارات العربیة", "الامارات العربية", "Persian yeh and hamza-below alef"),
    ("کورونا", "كورونا", "Persian keheh"),
    ("الداخلـــــية", "الداخلية", "tatweel"),
    ("أَعْلَنَ الوَزِيرُ", "اعلن الوزير", "diacritics"),
    ("آسيا وٱلأمن", "اسيا والامن", "madda and wasla alef"),
    ("ا\u0654من", "امن", "decomposed hamza above"),
    ("مستشفى على", "مستشفي علي", "alef maksura"),
    ("عام ٢٠٢٤ و۱۴۰۳", "عام 2024 و1403", "Eastern-Arabic and Persian digits"),
    ("\ufefb\ufeb3\ufe98", "لاست", "presentation forms and lam-alef ligature"),
    ("ﻻ", "لا", "lam-alef isolated ligature"),
    ("وزير\u200cالداخلية\u200f", "وزيرالداخلية", "zero-width non-joiner and RLM removed"),
    ("نعم، لا؛ لماذا؟", "نعم, لا; لماذا?", "Arabic punctuation folded to Latin"),
    ("UAV Drone", "uav drone", "Latin lower-cased"),
    ("بلدية ە", "بلدية ه", "Kurdish ae"),
    ("\u202bنص\u202c", "نص", "bidi embedding controls"),
]


@pytest.mark.parametrize("raw, expected, why", NORMALIZE_CASES, ids=[c[2] for c in NORMALIZE_CASES])
def test_normalize_cases(raw, expected, why):
    assert normalize(raw) == expected


def test_normalize_keeps_teh_marbuta_and_hamza_on_carriers():
    assert normalize("مدينة مسؤول رئيس") == "مدينة مسؤول رئيس"


BOILERPLATE_CASES = [
    ("الخبر الاساسي هنا\nإقرأ أيضاً:\nقصة أخرى عن موضوع آخر\nوفقرة ثانية", "الخبر الاساسي هنا", "read-also block cut"),
    ("الخبر\nاقرأ أيضا\nقصة", "الخبر", "plain alef, no tanween"),
    ("الخبر\nاقرأ ايضاً: عنوان خبر اخر\nتكملة الخبر", "الخبر\nتكملة الخبر", "inline read-also line dropped"),
    (
        "الخبر\nكلمات دلالية:\nفيروس كورونا\nالإمارات\nفقرة طويلة تعود الى الخبر وتشرح ما حدث بالتفصيل اليوم.",
        "الخبر\nفقرة طويلة تعود الى الخبر وتشرح ما حدث بالتفصيل اليوم.",
        "tag list and its short lines",
    ),
    ("الخبر\nالمصدر: صحيفة الأيام", "الخبر", "source line"),
    ("الخبر\nطباعة شارك الخارجية الامم المتحدة", "الخبر", "share line with tags"),
    ("DELMON POST LOGO\nالخبر", "الخبر", "logo line"),
    ("الخبر\nمقالات ذات صلة", "الخبر", "related articles"),
    ("الخبر\nفيسبوك تويتر واتساب", "الخبر", "share buttons"),
    ("اقرأ أيضا: وزير الداخلية", "", "a lone read-also line is dropped"),
    (
        "تقرير طويل عن ضبط شحنة من المخدرات في الميناء. " * 3 + "اقرأ أيضا: خبر عن الطقس",
        ("تقرير طويل عن ضبط شحنة من المخدرات في الميناء. " * 3).strip(),
        "flattened page",
    ),
]


@pytest.mark.parametrize("raw, expected, why", BOILERPLATE_CASES, ids=[c[2] for c in BOILERPLATE_CASES])
def test_strip_boilerplate_cases(raw, expected, why):
    assert strip_boilerplate(raw) == expected


def test_read_also_story_never_reaches_features():
    article = "وزير الداخلية يبحث مكافحة الارهاب\nإقرأ أيضاً:\nمباراة القمة بين الاهلي والزمالك تنتهي بالتعادل"
    assert "الاهلي" not in " ".join(analyze(clean(article)))


def test_strip_html_scripts_styles_entities():
    raw = '<html><style>p{color:red}</style><script>alert("x")</script><p>الأمن &amp; السلامة</p><!-- c --></html>'
    out = strip_html(raw)
    assert "alert" not in out and "color" not in out and "<" not in out
    assert "الأمن & السلامة" in out


def test_strip_links():
    out = strip_links("راسلونا info@moi.gov.ae وزوروا https://moi.gov.ae/ar?x=1 و@MOIUAE #الأمن_السيبراني")
    assert "moi" not in out.lower() and "@" not in out
    assert "الأمن السيبراني" in out


def test_clean_end_to_end():
    raw = "<p>أعلنت الداخليـــة عن ضبط ٣ أشخاص</p>\nالمصدر: وام\nكلمات دلالية:\nالإمارات"
    assert clean(raw) == "اعلنت الداخلية عن ضبط 3 اشخاص"


def test_tokenize_and_analyze():
    assert tokenize("hello, وزير-الداخلية 12.5") == ["hello", "وزير", "الداخلية", "12.5"]
    assert "في" not in analyze("في الميناء")
    assert light_stem("والمسيرات") == "مسير"
    assert light_stem("قمة") == "قمة"  # three letters are never cut


def test_light_stem_keeps_words_whose_ending_is_not_a_plural():
    # ان/ون/ين are cut only when four letters remain, so these do not collide
    assert light_stem("الادمان") != light_stem("ادم")  # addiction, Adam
    assert light_stem("القانون") == "قانون"
    assert light_stem("تامين") == "تامين"
    # plurals and duals on longer stems still meet their singular
    assert light_stem("المهربين") == light_stem("المهرب") == "مهرب"
    assert light_stem("الوزيران") == light_stem("الوزير") == "وزير"
    assert light_stem("اللاعبون") == "لاعب"


def test_split_sentences():
    assert split_sentences("اولا. ثانيا؟ ثالثا!\nرابعا") == ["اولا.", "ثانيا؟", "ثالثا!", "رابعا"]


def test_stop_words_are_normalized():
    assert all(normalize(w) == w for w in STOP_WORDS)


# ---- properties -----------------------------------------------------------

arabicish = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
        st.characters(min_codepoint=0xFB50, max_codepoint=0xFEFF),
        st.sampled_from(list(FOLD_MAP) + [" ", "\n", "<", ">", "&", "#", "@", ":"]),
        st.characters(),
    ),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(arabicish)
def test_normalize_idempotent_and_total(text):
    once = normalize(text)
    assert normalize(once) == once
    assert not set(once) & set(FOLD_MAP)


@settings(max_examples=200, deadline=None)
@given(arabicish)
def test_clean_never_raises_and_is_stable(text):
    out = clean(text)
    assert isinstance(out, str)


@settings(max_examples=200, deadline=None)
@given(arabicish)
def test_tokens_never_empty(text):
    assert all(tokenize(text))
    assert all(analyze(normalize(text)))


@settings(max_examples=200, deadline=None)
@given(arabicish)
def test_strip_boilerplate_never_lengthens(text):
    assert len(strip_boilerplate(text)) <= len(text)


# The boilerplate patterns read lines folded one-to-one (text._LINE_FOLD);
# they must match exactly where the same patterns written for the raw line
# match, at the same offsets.
_PHRASES = {
    "_READ_ALSO_RE": text_module._READ_ALSO + ("read also", "Related news"),
    "_READ_ALSO_INLINE_RE": text_module._READ_ALSO + ("read more",),
    "_READ_ALSO_MIDLINE_RE": text_module._READ_ALSO + ("related stories",),
    "_TAGS_RE": text_module._TAGS + ("Tags", "keywords"),
    "_SOURCE_RE": text_module._SOURCE,
    "_SHARE_RE": text_module._SHARE_WORDS + text_module._SHARE_LATIN,
    "_RIGHTS_RE": text_module._RIGHTS + ("©",),
}
_VARIANTS = {"ا": "اأإآٱ", "ي": "يىی", "ه": "هة", "ة": "هة", "ك": "كک"}
_NOISE = ["", "", "", "\u064e", "\u0651\u064b", "\u0640", "\u0654", "\u06ec"]


@st.composite
def marker_lines(draw, phrases):
    """Lines made of marker phrases written with hamza, diacritics, tatweel
    and Persian letters, then (or not) more text."""
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        for ch in draw(st.sampled_from(phrases)):
            pieces.append(draw(st.sampled_from(_VARIANTS.get(ch, ch))) + draw(st.sampled_from(_NOISE)))
        pieces.append(draw(st.sampled_from([" ", "  ", ": ", " | ", " - ", "، ", ":", "\u00a0", ""])))
    prefix = draw(st.sampled_from(["", " ", "• ", "«", "\u064e", "خبر. "]))
    suffix = draw(st.one_of(st.just(""), arabicish.map(lambda t: t.replace("\n", " "))))
    return prefix + "".join(pieces) + suffix


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(_PHRASES)), st.data())
def test_folded_boilerplate_patterns_match_as_the_raw_ones(name, data):
    line = data.draw(st.one_of(marker_lines(_PHRASES[name]), arabicish.map(lambda t: t.replace("\n", " "))))
    pattern = getattr(text_module, name)
    raw = re.compile(pattern._parts(None, True), pattern._flags)
    expected = raw.match(line)
    got = pattern.match(line)
    assert (got is None) == (expected is None)
    if got is not None:
        assert got.span() == expected.span()
        # and article_spans does not skip the line before asking
        assert name == "_READ_ALSO_MIDLINE_RE" or text_module._CANDIDATE_RE.match(line)
    if name == "_READ_ALSO_MIDLINE_RE":
        start = data.draw(st.integers(0, len(line)))
        found = raw.search(line, start, len(line))
        assert pattern.search(line, start, len(line)) == (None if found is None else found.start())


def test_every_boilerplate_pattern_is_checked_against_its_raw_form():
    guarded = {name for name in dir(text_module) if isinstance(getattr(text_module, name), text_module._Guarded)}
    assert guarded == set(_PHRASES)


def test_folded_boilerplate_patterns_find_markers_as_written():
    assert text_module._READ_ALSO_RE.match("إقـرأ أيْضاً")
    assert text_module._TAGS_RE.match("الكلمات الدلالیة:")
    assert text_module._SHARE_RE.match("طباعة شارك")
    assert not text_module._SHARE_RE.match("شاركت الوزارة في المؤتمر")
    assert text_module._READ_ALSO_MIDLINE_RE.search("خبر اول. اقرأ ايضاً: خبر آخر", 8, 29) == 9
