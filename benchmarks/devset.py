"""Score the shipped model on the real-news development set, on both levels, beside a keyword baseline.

    python benchmarks/devset.py [--model MODEL] [--shared ../shared] [--set dev|heldout]

Joins benchmarks/devset/labels.jsonl (corpus file, article id, our labels
and mentions) with the article texts in ../shared/corpora at run time (no
text is stored here), and prints:

* the about level: micro/macro F1 of the labels, per theme, and the
  off-topic false-positive rate;
* the found level: precision and recall of labels + mentions against
  labels + mentions;
* the same for a keyword-regex baseline (one regex per theme, the way a user
  would write it in ten minutes; its hits are its labels and it names
  nothing);
* the long agenda-style articles (route ``round3:agenda``) on their own;
* the agreement of the two labelers (benchmarks/devset/labelers.jsonl),
  the ceiling the model is measured against.

With ``--set heldout`` the same figures are printed for the held-out test
set (benchmarks/heldout/labels.jsonl, drawn by
benchmarks/heldout/select_candidates.py after the development set had been
used for choosing; its route ``agenda`` is the long agenda-style subset).
It is measured only, never used for choosing.

The model is never trained on these texts.  Skips cleanly when
../shared/corpora is absent.
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
HELDOUT = Path(__file__).with_name("heldout") / "labels.jsonl"

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


def load_devset(shared: Path, labels_file: Path = LABELS):
    rows = [json.loads(line) for line in labels_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts: dict[tuple[str, str], str] = {}
    for corpus in sorted({r["corpus"] for r in rows}):
        for line in (shared / "corpora" / corpus).read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            texts[(corpus, rec["id"])] = rec["text"]
    return rows, [texts[(r["corpus"], r["id"])] for r in rows]


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    observed = (a == b).mean()
    expected = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean())
    return float((observed - expected) / (1 - expected)) if expected < 1 else 1.0


def labeler_agreement(labels: list[str], labels_file: Path = LABELS) -> list[str]:
    """Agreement of the two labelers, per level: exact sets and Cohen's kappa."""
    path = labels_file.with_name("labelers.jsonl")
    if not path.exists():
        return []
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = [f"two labelers, blind to each other and to the model, on {len(pairs)} articles:"]
    levels = {
        "about": lambda r: set(r["labels"]),
        "found": lambda r: set(r["labels"]) | set(r["mentions"]),
        "mentions": lambda r: set(r["mentions"]),
    }
    for level, get in levels.items():
        exact = np.mean([get(p["first"]) == get(p["second"]) for p in pairs])
        kappas = {}
        for theme in labels:
            a = [theme in get(p["first"]) for p in pairs]
            b = [theme in get(p["second"]) for p in pairs]
            if any(a) or any(b):
                kappas[theme] = _kappa(np.array(a), np.array(b))
        pooled = _kappa(
            np.array([t in get(p["first"]) for p in pairs for t in labels]),
            np.array([t in get(p["second"]) for p in pairs for t in labels]),
        )
        per = ", ".join(f"{t} {k:.2f}" for t, k in kappas.items())
        out.append(f"  {level:8s} exact set {exact:.3f}; Cohen's kappa pooled {pooled:.3f}; per theme: {per}")
    return out


def _row(name: str, rep, found) -> str:
    return (
        f"| {name} | {rep['micro_f1']:.3f} | {rep['macro_f1']:.3f} | {rep['off_topic_false_positive_rate']:.1%} "
        f"| {found['micro_precision']:.3f} | {found['micro_recall']:.3f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model file (default: the shipped model)")
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument(
        "--set",
        choices=("dev", "heldout"),
        default="dev",
        help="dev: the development set (default); heldout: the held-out test set (benchmarks/heldout/), "
        "drawn after the development set had been used for choosing, and never used for choosing",
    )
    args = parser.parse_args(argv)
    labels_file = HELDOUT if args.set == "heldout" else LABELS
    if not labels_file.exists():
        print(f"skipped: {labels_file} not found")
        return 0
    shared = Path(args.shared)
    if not (shared / "corpora").is_dir():
        print(f"skipped: {shared / 'corpora'} not found")
        return 0
    rows, texts = load_devset(shared, labels_file)
    labels = list(theme_labels())
    ids = [f"{r['corpus'].split('.')[0]}:{r['id']}" for r in rows]
    Y = _label_matrix([r["labels"] for r in rows], labels)
    M = _label_matrix([r["mentions"] for r in rows], labels)
    everyone = np.ones(len(rows), dtype=bool)
    model = load_model(args.model)
    proba, named = model.predict_levels(texts)
    keyword = keyword_predict(texts, labels)
    half = np.full(len(labels), 0.5)
    ours = score_predictions(ids, Y, proba, model.thresholds_, labels, top=args.top, found=(M, named, everyone))
    base = score_predictions(ids, Y, keyword, half, labels, top=args.top, found=(M, 0 * named, everyone))
    offtopic = np.array(
        [r["section"] in ("sport", "culture", "economy", "technology") and not r["labels"] for r in rows]
    )
    P = proba >= model.thresholds_
    section_fp = float(P[offtopic].any(axis=1).mean()) if offtopic.any() else 0.0
    quiet = offtopic & ~M.any(axis=1)
    named_quiet = float(named[quiet].any(axis=1).mean()) if quiet.any() else 0.0
    print(
        f"{'held-out test' if args.set == 'heldout' else 'development'} set: {len(rows)} real articles, "
        f"{int((~Y.any(axis=1)).sum())} with no theme, "
        f"{int(M.any(axis=1).sum())} naming a theme they are not about"
    )
    print("\n== shipped model ==")
    print(ours.format())
    print(f"off-topic-section articles (sport/culture/economy/technology, no theme) given a theme: {section_fp:.1%}")
    print(f"  ... of those naming no theme either, given a mention: {named_quiet:.1%}")
    print("\n== keyword baseline ==")
    print(base.format().split("most confused")[0].rstrip())
    agenda = np.array([r["route"] in ("round3:agenda", "agenda") for r in rows])
    print(
        "\n| | about micro-F1 | about macro-F1 | off-topic given a theme | found precision | found recall |\n"
        "|---|---|---|---|---|---|"
    )
    print(_row("shipped model", ours.report, ours.found))
    print(_row("keyword regex", base.report, base.found))
    if agenda.any():
        sub = [i for i in range(len(rows)) if agenda[i]]
        ours_a = score_predictions(
            [ids[i] for i in sub],
            Y[sub],
            proba[sub],
            model.thresholds_,
            labels,
            found=(M[sub], named[sub], agenda[sub]),
        )
        base_a = score_predictions(
            [ids[i] for i in sub], Y[sub], keyword[sub], half, labels, found=(M[sub], 0 * named[sub], agenda[sub])
        )
        print(f"| shipped model, {len(sub)} long agenda articles | " + _row("", ours_a.report, ours_a.found)[5:])
        print(f"| keyword regex, {len(sub)} long agenda articles | " + _row("", base_a.report, base_a.found)[5:])
    agreement = labeler_agreement(labels, labels_file)
    if agreement:
        print()
        print("\n".join(agreement))
    if args.json:
        Path(args.json).write_text(json.dumps({"model": ours.to_dict(), "keyword": base.to_dict()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
