"""Named Arabic character sets and the folding map built from them.

Every set is defined once here; :mod:`arabictopics.text` compiles its
regular expressions from these names.  Letter names come from
:mod:`pyarabic.araby` (its constants are right and cost nothing); the sets
that pyarabic lacks or draws differently (Persian look-alikes, bidi
controls, presentation forms) are spelled out by code point.
"""

from __future__ import annotations

from pyarabic import araby

__all__ = [
    "ALEF_FORMS",
    "ALEF_MAKSURA_MAP",
    "ARABIC_PUNCTUATION_MAP",
    "BIDI_CONTROLS",
    "DIACRITICS",
    "DIGITS_MAP",
    "FOLD_MAP",
    "PERSIAN_LOOKALIKE_MAP",
    "PRESENTATION_FORMS_RANGES",
    "TATWEEL",
    "ZERO_WIDTH",
    "ZERO_WIDTH_SPACE",
]

#: Harakat, tanwin, shadda, sukun, dagger alef and the Quranic marks.
#: Example: «أَعْلَنَ» -> «اعلن».
DIACRITICS = frozenset(araby.TASHKEEL) | frozenset(
    "\u0610\u0611\u0612\u0613\u0614\u0615\u0616\u0617\u0618\u0619\u061a"  # honorifics, small marks
    "\u0653\u0654\u0655\u0656\u0657\u0658\u0659\u065a\u065b\u065c\u065d\u065e\u065f"
    "\u0670"  # superscript (dagger) alef
    "\u06d6\u06d7\u06d8\u06d9\u06da\u06db\u06dc\u06df\u06e0\u06e1\u06e2\u06e3\u06e4"
    "\u06e7\u06e8\u06ea\u06eb\u06ec\u06ed"
)

#: The kashida used to stretch words: «الداخلـــية» -> «الداخلية».
TATWEEL = araby.TATWEEL

#: Alef with hamza above/below, madda and wasla, all folded to bare alef.
#: Example: «إدارة أمن آسيا» -> «ادارة امن اسيا».
ALEF_FORMS = frozenset((araby.ALEF_HAMZA_ABOVE, araby.ALEF_HAMZA_BELOW, araby.ALEF_MADDA, araby.ALEF_WASLA))

#: Persian and Urdu letters that look like Arabic ones in news copy.
#: Example: «العربیة» (Persian yeh) -> «العربية»; «کورونا» -> «كورونا».
PERSIAN_LOOKALIKE_MAP = {
    "\u06cc": araby.YEH,  # ی farsi yeh
    "\u06d2": araby.YEH,  # ے yeh barree
    "\u06a9": araby.KAF,  # ک keheh
    "\u06aa": araby.KAF,  # ڪ swash kaf
    "\u06d5": araby.HEH,  # ە ae
    "\u06c0": araby.HEH,  # ۀ heh with yeh above
    "\u06c1": araby.HEH,  # ہ heh goal
    "\u06be": araby.HEH,  # ھ heh doachashmee
    "\u06c3": araby.TEH_MARBUTA,  # ۃ teh marbuta goal
}

#: Alef maksura written for final yeh (and vice versa) in news copy.
#: Example: «مستشفى» -> «مستشفي», «على» -> «علي».
ALEF_MAKSURA_MAP = {araby.ALEF_MAKSURA: araby.YEH}

#: Arabic-Indic (٠-٩) and extended/Persian (۰-۹) digits -> ASCII.
#: Example: «عام ٢٠٢٤» -> «عام 2024».
DIGITS_MAP = {
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
}

#: Arabic punctuation mapped to its Latin twin so both tokenize alike.
#: Example: «نعم، ولكن؟» -> «نعم, ولكن?».
ARABIC_PUNCTUATION_MAP = {
    "\u060c": ",",  # ، comma
    "\u061b": ";",  # ؛ semicolon
    "\u061f": "?",  # ؟ question mark
    "\u066a": "%",  # ٪ percent
    "\u066b": ".",  # ٫ decimal separator
    "\u066c": ",",  # ٬ thousands separator
    "\u06d4": ".",  # ۔ full stop
    "\u00ab": '"',  # « guillemets
    "\u00bb": '"',  # »
}

#: Zero-width characters that glue or shape letters invisibly (joiners, word
#: joiner, BOM, soft hyphen): deleted.
ZERO_WIDTH = frozenset("\u200c\u200d\u2060\ufeff\u00ad")

#: Zero-width *space*: an invisible word break, so it becomes a space.
ZERO_WIDTH_SPACE = "\u200b"

#: Bidirectional formatting controls pasted in from RTL editors.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

#: Arabic presentation forms A and B (ligatures such as «ﻻ», isolated and
#: final glyph forms).  NFKC decomposes them to ordinary letters.
PRESENTATION_FORMS_RANGES = (("\ufb50", "\ufdff"), ("\ufe70", "\ufefe"))

#: The single character map applied by :func:`arabictopics.text.normalize`:
#: ``""`` deletes, any other value replaces.
FOLD_MAP: dict[str, str] = {
    **dict.fromkeys(DIACRITICS, ""),
    TATWEEL: "",
    **dict.fromkeys(ZERO_WIDTH, ""),
    ZERO_WIDTH_SPACE: " ",
    **dict.fromkeys(BIDI_CONTROLS, ""),
    **dict.fromkeys(ALEF_FORMS, araby.ALEF),
    **ALEF_MAKSURA_MAP,
    **PERSIAN_LOOKALIKE_MAP,
    **DIGITS_MAP,
    **ARABIC_PUNCTUATION_MAP,
}
