"""Draw the development-set candidates from ../shared/corpora (ids only).

Reproducible: fixed seed, sorted inputs.  Two routes, so that the set is
not only what a keyword finder finds:

* news sections (ANT v2.1 middleEast / internationalNews, ANT v1.1 politic /
  localNews / society / diverse / internationalNews): for each theme, up to
  ``PER_THEME`` articles hit by that theme's keyword regex, plus a uniform
  random draw of ``RANDOM_NEWS`` articles;
* off-topic sections (sport, culture, economy, technology of both corpora):
  ``TRAPS`` articles hit by trap words (football «الهجوم», «قمة», «تدريب»,
  «اختراق», «مخدر», «مسيرة», «فيروس» ...) plus a random draw of
  ``RANDOM_OFF``.

Round 2 (added after labeling round 1, which left drones, technology and
training under 15 articles each): for those themes, a wider regex with a
single hit is enough, over the news sections (and the technology sections
for the technology theme), up to ``ROUND2_PER_THEME`` new articles each,
shuffled by its own seed so round 1 stays exactly as it was.

Round 3 (added with the two-level labels: what an article is about, and
what it names): long agenda-style news, the genre where one article names
many themes.  Over the news sections (ANT v2.1 middleEast /
internationalNews, ANT v1.1 politic / localNews / internationalNews),
articles of at least ``ROUND3_MIN_CHARS`` characters (the longest quarter of
those sections) with at least two meeting words and one cooperation or
agenda word; ranked by the number of distinct such markers times the
number of themes whose keyword regex they hit (ties broken by its own seed),
the best ``ROUND3_N`` not already chosen.

Writes ``candidates.jsonl``: {"corpus", "id", "section", "route"}.  The text
stays in ../shared and is joined at run time.  Usage:

    python benchmarks/devset/select_candidates.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

SEED = 20261124
PER_THEME = 16
RANDOM_NEWS = 60
TRAPS = 60
RANDOM_OFF = 70

CORPORA = {
    "ant_v2.1_multisource.sample.jsonl": {
        "news": {"middleEast", "internationalNews"},
        "off": {"sport", "culture", "economy", "technology"},
    },
    "ant_v1.1_jawharafm.sample.jsonl": {
        "news": {"politic", "localNews", "society", "diverse", "internationalNews"},
        "off": {"sport", "culture", "economy", "technology"},
    },
}

THEME_KEYWORDS = {
    "cybercrime": r"سيبران|قرصن|اختراق|هاكر|الجرائم الإلكترونية|ابتزاز|احتيال إلكتروني|فدية",
    "drones": r"مسير[ةه]|مسيّر|درون|طائرات? (?:بدون|من دون) طيار",
    "drugs": r"مخدر|كبتاغون|حشيش|هيروين|كوكايين|الشبو|أقراص مخدرة|الإدمان",
    "diplomacy": r"وزير الخارجية|مذكرة تفاهم|زيارة رسمية|العلاقات الثنائية|القمة|سفير|بيان مشترك",
    "terrorism": r"إرهاب|داعش|القاعدة|متطرف|انتحاري|عبوة ناسفة",
    "organized_crime": r"تهريب|غسل الأموال|غسيل الأموال|الاتجار بالبشر|عصابة|شبكة إجرامية|تبييض",
    "border_security": r"الحدود|المعبر|خفر السواحل|الهجرة غير|حرس الحدود|المنفذ|الحرقة|حراقة|مهاجرين",
    "civil_protection": r"الدفاع المدني|الحماية المدنية|حريق|فيضان|سيول|زلزال|الإنقاذ|إسعاف",
    "environment": r"البيئة|التلوث|المناخ|الاحتباس|النفايات|التصحر",
    "public_health": r"وباء|فيروس|لقاح|تطعيم|الكوليرا|الإنفلونزا|منظمة الصحة",
    "technology": r"الذكاء الاصطناعي|الرقمي|التحول الرقمي|الحكومة الإلكترونية|روبوت|تقنيات حديثة",
    "training": r"تدريب|تمرين|مناورات|دورة تكوينية|تكوين|محاكاة",
}
ROUND2_SEED = SEED + 1
ROUND2_PER_THEME = 25
ROUND2_KEYWORDS = {
    "drones": r"مسير[ةه]|مسيّر|درون|طائر[ةت]ا?ت? (?:بدون|من دون|بلا) طيار|الطائرات المسيرة",
    "technology": (
        r"الذكاء الاصطناعي|روبوت|التحول الرقمي|الحكومة الإلكترونية|المدن? الذكية|التعرف على الوجه|"
        r"البيانات الضخمة|بلوك ?تشين|إنترنت الأشياء|القياسات الحيوية|البصمة"
    ),
    "training": r"مناورات|تمرين|تمارين|تدريبات مشتركة|دورة تدريبية|دورة تكوينية|تدريب (?:عسكري|أمني)|محاكاة",
}
ROUND3_SEED = SEED + 2
ROUND3_N = 70
ROUND3_MIN_CHARS = 1200
ROUND3_SECTIONS = {"middleEast", "internationalNews", "politic", "localNews"}
MEETING_WORDS = r"اجتماع|لقاء|مؤتمر|قمة|مباحثات|محادثات|زيارة|استقبل|ملتقى|منتدى|ندوة|وزير"
AGENDA_WORDS = (
    r"التعاون|التنسيق|مذكرة تفاهم|اتفاقي|البيان الختامي|بيان مشترك|جدول الأعمال|تبادل الخبرات|الشراكة|"
    r"بحث|ناقش|تناول|ملفات|القضايا|التوصيات"
)
TRAP_WORDS = r"الهجوم|هجوم|قمة|تدريب|التدريبات|اختراق|مخدر|تخدير|مسيرة|فيروس|الحدود|انهيار|قذيفة|حريق|طائرة"


def take_into(chosen: dict, items, limit: int, route: str, generator: random.Random) -> None:
    """Shuffle ``items`` (corpus, id, section, text) and add up to ``limit`` not in ``chosen`` yet."""
    items = list(items)
    generator.shuffle(items)
    n = 0
    for item in items:
        if n >= limit:
            break
        key = (item[0], item[1])
        if key not in chosen:
            chosen[key] = {"corpus": item[0], "id": item[1], "section": item[2], "route": route}
            n += 1


def write_candidates(chosen: dict, out: str) -> None:
    with open(out, "w", encoding="utf-8") as fh:
        for rec in chosen.values():
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{len(chosen)} candidates written to {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(Path(__file__).resolve().parents[3] / "shared"))
    parser.add_argument("--out", default=str(Path(__file__).with_name("candidates.jsonl")))
    args = parser.parse_args(argv)
    corpora = Path(args.shared) / "corpora"
    if not corpora.is_dir():
        print(f"skipped: {corpora} not found", file=sys.stderr)
        return 0
    rng = random.Random(SEED)
    news, off = [], []
    for name, sections in CORPORA.items():
        for line in (corpora / name).read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            item = (name, rec["id"], rec["label"], rec["text"])
            if rec["label"] in sections["news"]:
                news.append(item)
            elif rec["label"] in sections["off"]:
                off.append(item)
    news.sort(key=lambda r: (r[0], r[1]))
    off.sort(key=lambda r: (r[0], r[1]))
    chosen: dict[tuple[str, str], dict] = {}

    def take(items, limit, route, generator=rng):
        take_into(chosen, items, limit, route, generator)

    for theme, pattern in THEME_KEYWORDS.items():
        rx = re.compile(pattern)
        take([item for item in news if len(rx.findall(item[3])) >= 2], PER_THEME, f"keyword:{theme}")
    take(news, RANDOM_NEWS, "random:news")
    take([item for item in off if re.search(TRAP_WORDS, item[3])], TRAPS, "trap:offtopic")
    take(off, RANDOM_OFF, "random:offtopic")
    rng2 = random.Random(ROUND2_SEED)
    for theme, pattern in ROUND2_KEYWORDS.items():
        rx = re.compile(pattern)
        sections = news + ([item for item in off if item[2] == "technology"] if theme == "technology" else [])
        take([item for item in sections if rx.search(item[3])], ROUND2_PER_THEME, f"round2:{theme}", rng2)
    rng3 = random.Random(ROUND3_SEED)
    meeting, agenda = re.compile(MEETING_WORDS), re.compile(AGENDA_WORDS)
    themes = [re.compile(pattern) for pattern in THEME_KEYWORDS.values()]
    ranked = []
    for item in news:
        text = item[3]
        if item[2] not in ROUND3_SECTIONS or len(text) < ROUND3_MIN_CHARS or (item[0], item[1]) in chosen:
            continue
        meetings, agendas = meeting.findall(text), agenda.findall(text)
        if len(meetings) < 2 or not agendas:
            continue
        markers = len(set(meetings)) + len(set(agendas))
        ranked.append((markers * (1 + sum(1 for rx in themes if rx.search(text))), rng3.random(), item))
    ranked.sort(key=lambda r: (-r[0], r[1]))
    take([r[2] for r in ranked[:ROUND3_N]], ROUND3_N, "round3:agenda", random.Random(ROUND3_SEED))
    write_candidates(chosen, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
