"""Score the shipped model on the real-news development set, beside a keyword baseline.

    python benchmarks/devset.py [--model MODEL] [--shared ../shared]

Joins benchmarks/devset/labels.jsonl (corpus file, article id, our labels)
with the article texts in ../shared/corpora at run time (no text is stored
here), and prints micro/macro F1, per-theme precision/recall/F1, the
off-topic false-positive rate, and the worst misses and false positives,
for the model and for a keyword-regex baseline (one regex per theme, the
way a user would write it in ten minutes).  The model is never trained on
these texts.  Skips cleanly when ../shared/corpora is absent.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arabictopics import load_model  # noqa: E402
from arabictopics.evaluation import score_predictions  # noqa: E402
from arabictopics.model import _label_matrix  # noqa: E402
from arabictopics.taxonomy import theme_labels  # noqa: E402

LABELS = Path(__file__).with_name("devset") / "labels.jsonl"

KEYWORDS = {
    "cybercrime": r"سيبران|قرصن|هاكر|اختراق|الجرائم الإلكترونية|ابتزاز إلكتروني|برمجيات خبيثة|فدية",
    "drones": r"طائرة مسيرة|طائرات مسيرة|مسيّرة|المسيرات|درون|بدون طيار",
    "drugs": r"مخدر|كبتاغون|حشيش|هيروين|كوكايين|الشبو|الإدمان",
    "diplomacy": r"وزير الخارجية|مذكرة تفاهم|العلاقات الثنائية|زيارة رسمية|القمة|بيان مشترك|سفير",
    "terrorism": r"إرهاب|داعش|القاعدة|متطرف|تكفيري",
    "organized_crime": r"الجريمة المنظمة|غسل الأموال|غسيل الأموال|الاتجار بالبشر|شبكة تهريب|عصابة|تهريب الأسلحة",
    "border_security": r"الحدود|حرس الحدود|خفر السواحل|المعبر|المنفذ|الهجرة غير الشرعية|الهجرة غير النظامية",
    "civil_protection": r"الدفاع المدني|الحماية المدنية|حريق|الإطفاء|فيضان|سيول|الإنقاذ|زلزال",
    "environment": r"البيئة|التلوث|المناخ|الاحتباس الحراري|النفايات|التصحر",
    "public_health": r"وباء|جائحة|فيروس|لقاح|تطعيم|كورونا|الكوليرا|منظمة الصحة العالمية",
    "technology": r"الذكاء الاصطناعي|التحول الرقمي|الحكومة الإلكترونية|التقنيات الحديثة|روبوت",
    "training": r"تدريب|تمرين|مناورات|دورة تدريبية",
}


def keyword_predict(texts: list[str], labels: list[str]) -> np.ndarray:
    regexes = [re.compile(KEYWORDS[label]) for label in labels]
    return np.array([[1.0 if rx.search(t) else 0.0 for rx in regexes] for t in texts])


def load_devset(shared: Path):
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts: dict[tuple[str, str], str] = {}
    for corpus in sorted({r["corpus"] for r in rows}):
        for line in (shared / "corpora" / corpus).read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            texts[(corpus, rec["id"])] = rec["text"]
    return rows, [texts[(r["corpus"], r["id"])] for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model file (default: the shipped model)")
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    shared = Path(args.shared)
    if not (shared / "corpora").is_dir():
        print(f"skipped: {shared / 'corpora'} not found")
        return 0
    rows, texts = load_devset(shared)
    labels = list(theme_labels())
    ids = [f"{r['corpus'].split('.')[0]}:{r['id']}" for r in rows]
    Y = _label_matrix([r["labels"] for r in rows], labels)
    model = load_model(args.model)
    proba = model.predict_proba(texts)
    ours = score_predictions(ids, Y, proba, model.thresholds_, labels, top=args.top)
    base = score_predictions(ids, Y, keyword_predict(texts, labels), np.full(len(labels), 0.5), labels, top=args.top)
    offtopic = [r["section"] in ("sport", "culture", "economy", "technology") and not r["labels"] for r in rows]
    P = proba >= model.thresholds_
    section_fp = float(P[np.array(offtopic)].any(axis=1).mean()) if any(offtopic) else 0.0
    print(f"development set: {len(rows)} real articles, {int((~Y.any(axis=1)).sum())} with no theme")
    print("\n== shipped model ==")
    print(ours.format())
    print(f"off-topic-section articles (sport/culture/economy/technology, no theme) given a theme: {section_fp:.1%}")
    print("\n== keyword baseline ==")
    print(base.format().split("most confused")[0].rstrip())
    print("\n| | micro F1 | macro F1 | off-topic FP rate |\n|---|---|---|---|")
    for name, rep in (("shipped model", ours.report), ("keyword regex", base.report)):
        print(
            f"| {name} | {rep['micro_f1']:.3f} | {rep['macro_f1']:.3f} | {rep['off_topic_false_positive_rate']:.1%} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"model": ours.to_dict(), "keyword": base.to_dict()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
