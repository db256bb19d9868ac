"""How often the model gives a theme to off-topic news: sport, culture, economy, cooking, weather, religion.

    python benchmarks/offtopic.py [--model MODEL.atm] [--shared ../shared] [--target 0.03] [--show-titles]

Runs a model (default: the shipped one, ``arabictopics.load_model()``) over
the categories of the public corpora in ../shared/corpora that lie outside our
twelve security and public-affairs themes, and prints the fraction of
articles given any theme, overall and per category, which themes fire (counts),
and ten example ids with the themes fired.  The target is under 3%.  The model
never saw these texts; every split (train and test) is used.

Which categories count as off-topic (decided against the taxonomy and the
labeling rules in fixtures/README.md, which name sports, markets and the
economy, culture and art, celebrities, religion and weather forecasts as
off-topic):

* headline set (the rate compared with the target)
    - ANT v2.1: sport, culture, economy
    - ANT v1.1: sport, culture, economy
    - Mowjaz: sports, art_celebrities, economy, cooking, weather, islam_religions
* borderline (reported, not in the headline rate): ANT v2.1 and v1.1
  technology and Mowjaz technology, because our ``cybercrime`` and
  ``technology`` themes cover hacking, data breaches and AI adoption, which
  these sections carry; Mowjaz health, because ``public_health`` covers
  epidemics and public-health campaigns, which it carries too.
* not off-topic (not used): ANT internationalNews, middleEast, localNews,
  politic, society and diverse (they carry attacks, smuggling, arrests,
  diplomacy), Mowjaz news and other_misc.

A Mowjaz article counts in the headline set only when every one of its
labels is a headline category; per-category rows count every article that
carries the category.

Even these sections contain some articles a careful labeler would give a
theme (a customs seizure of smuggled cigarettes in an economy section, a
strategic partnership between two states, a flood rescue in a weather
section), so the rate is an upper bound on the false-positive rate, not the
rate itself; ``--show-titles`` prints the headlines of the examples to judge
them (at run time only: nothing from the corpora is stored).

The audit (``benchmarks/offtopic/audit.jsonl``, ids and labels only) turns
that upper bound into a false-positive rate.  It labels, by the same guide,
every headline-set article that the shipped model gave a theme before or
after the change that introduced the audit (168 articles), plus 100 drawn
at random (seed 20261124) from those given none, shuffled together so the
labelers could not tell which was which.  Two labelers labeled every article
independently, without seeing the model's output; disagreements were settled
by a third reading (``route``: ``alarm`` or ``random``; ``agreed``: whether
the two first labels matched).  Route ``alarm2``: the 32 articles the
two-level model (labels and mentions) gave a theme that the audit had not
seen, labeled the same way by two new blind labelers (30 of 32 agreed; the
two disagreements keep only the labels both gave).  The script then prints:

* articles the audit finds off-topic (no theme) that the model gives a
  theme: **the false-positive rate**, compared with the target;
* articles the audit finds on-theme, and how many of them get a theme
  they do not carry;
* alarms on articles the audit never saw, counted as false positives: a
  model that fires elsewhere must have its new alarms audited before the
  rate means anything, and the script says how many there are.

Mowjaz text is pre-normalised upstream (ة->ه, ى->ي, ئ->ء, digits and most
punctuation stripped), unlike the raw news the model is trained for; its rows
are scored as given and reported separately per category.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arabictopics import load_model  # noqa: E402

#: corpus file -> (short name, label field, headline off-topic categories, borderline categories)
CORPORA = {
    "ant_v2.1_multisource.sample.jsonl": ("ANT v2.1", "label", ("sport", "culture", "economy"), ("technology",)),
    "ant_v1.1_jawharafm.sample.jsonl": ("ANT v1.1", "label", ("sport", "culture", "economy"), ("technology",)),
    "mowjaz_validation.multilabel.jsonl": (
        "Mowjaz",
        "labels_en",
        ("sports", "art_celebrities", "economy", "cooking", "weather", "islam_religions"),
        ("technology", "health"),
    ),
}
N_EXAMPLES = 10
AUDIT = Path(__file__).with_name("offtopic") / "audit.jsonl"


def read_audit(path: Path = AUDIT) -> dict[tuple[str, str], set[str]]:
    """``(corpus file, id) -> labels`` of the audited articles (empty when the file is absent)."""
    if not path.is_file():
        return {}
    records = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {(rec["corpus"], rec["id"]): set(rec["labels"]) for rec in records}


def read_rows(path: Path, field: str) -> list[tuple[str, str, set[str]]]:
    """``(id, text, categories)`` of every row."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        value = rec[field]
        out.append((rec["id"], rec["text"], set(value) if isinstance(value, list) else {value}))
    return out


def headline(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    return first if len(first) <= 90 else first[:89] + "…"


def rate(hit: int, total: int) -> str:
    return f"{hit / total:6.1%}" if total else "   n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a saved model (.atm); default: the shipped model")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared directory")
    parser.add_argument("--target", type=float, default=0.03, help="highest acceptable rate (default: 0.03)")
    parser.add_argument("--show-titles", action="store_true", help="print the examples' headlines (not stored)")
    args = parser.parse_args(argv)
    corpora = args.shared / "corpora"
    present = {name: spec for name, spec in CORPORA.items() if (corpora / name).is_file()}
    if not present:
        print(f"skipped: no corpus sample under {corpora} (see shared/corpora/README.md).")
        return 0
    model = load_model(args.model)
    print(f"model: {args.model or 'shipped default'}; themes: {', '.join(str(c) for c in model.classes_)}")

    audit = read_audit()
    audited = Counter()  # off_total, off_hit, on_total, on_extra, unaudited_hit
    head_total = head_hit = border_total = border_hit = 0
    head_themes: Counter[str] = Counter()
    named_themes: Counter[str] = Counter()
    border_themes: Counter[str] = Counter()
    fired: list[tuple[str, str, float, str, tuple[str, ...], str]] = []  # (group, id, top score, audit, themes, title)
    print(
        f"\n{'corpus':<9} {'category':<16} {'set':<10} {'articles':>8} {'given a theme':>13} {'rate':>6} "
        f"{'false (audit)':>13}  themes fired"
    )
    for name, (short, field, off, borderline) in present.items():
        rows = read_rows(corpora / name, field)
        wanted = [row for row in rows if row[2] & set(off + borderline)]
        results = model.classify_many([text for _, text, _ in wanted])
        per_cat: dict[str, list] = {cat: [0, 0, Counter(), 0] for cat in off + borderline}
        for (doc_id, text, cats), result in zip(wanted, results):
            truth = audit.get((name, doc_id))  # None: not audited
            false_alarm = bool(set(result.labels) - (truth or set()))
            for cat in cats & set(per_cat):
                stats = per_cat[cat]
                stats[0] += 1
                if result.labels:
                    stats[1] += 1
                    stats[2].update(result.labels)
                    stats[3] += false_alarm
            in_head = cats <= set(off)
            in_border = not in_head and bool(cats & set(borderline))
            if in_head:
                head_total += 1
                audited["on_total" if truth else "off_total"] += 1
                audited["on_extra" if truth else "off_hit"] += false_alarm
                audited["off_named"] += not truth and bool(result.mentions)
                named_themes.update(list(result.mentions) if not truth else [])
                audited["unaudited_hit"] += bool(result.labels) and truth is None
            elif in_border:
                border_total += 1
            if not result.labels:
                continue
            if in_head:
                head_hit += 1
                head_themes.update(result.labels)
                group = f"{short}/{'+'.join(sorted(cats))}"
                top = max(result.scores[label] for label in result.labels)
                judged = "" if truth is None else f" [audit: {', '.join(sorted(truth)) or 'no theme'}]"
                fired.append((group, doc_id, top, judged, result.labels, headline(text)))
            elif in_border:
                border_hit += 1
                border_themes.update(result.labels)
        for cat in off + borderline:
            n, hit, themes, false = per_cat[cat]
            kind = "headline" if cat in off else "borderline"
            shown = ", ".join(f"{t} {c}" for t, c in themes.most_common()) or "-"
            audited_false = f"{false:13d}" if audit and cat in off else f"{'-':>13}"
            print(f"{short:<9} {cat:<16} {kind:<10} {n:8d} {hit:13d} {rate(hit, n)} {audited_false}  {shown}")

    if audit:
        verdict = "an upper bound on the false-positive rate: some of these articles carry a theme (audit below)"
    else:
        verdict = f"target < {args.target:.0%}: " + (
            "OK" if head_total and head_hit / head_total < args.target else "ABOVE TARGET"
        )
    print(
        f"\nheadline off-topic set: {head_hit} of {head_total} articles given a theme = {rate(head_hit, head_total)} "
        f"({verdict})"
    )
    print("  themes fired: " + (", ".join(f"{t} {c}" for t, c in head_themes.most_common()) or "-"))
    if audit:
        off_total, off_hit = audited["off_total"], audited["off_hit"]
        verdict = "OK" if off_total and off_hit / off_total < args.target else "ABOVE TARGET"
        print(
            f"audited ({len(audit)} articles in {AUDIT.relative_to(ROOT)}):\n"
            f"  off-topic articles given a theme (false-positive rate): {off_hit} of {off_total} = "
            f"{rate(off_hit, off_total)} (target < {args.target:.0%}): {verdict}\n"
            f"  on-theme articles (a theme by our guide): {audited['on_total']}; "
            f"given a theme they do not carry: {audited['on_extra']}\n"
            f"  alarms on articles the audit never saw (counted as false positives): {audited['unaudited_hit']}\n"
            "  off-topic articles that name a theme (a mention; an upper bound: the audit labeled one level, and some "
            f"of these do name a theme): {audited['off_named']} of {off_total} = "
            f"{rate(audited['off_named'], off_total)} (target <= 5%)\n"
            "    themes named: " + (", ".join(f"{t} {c}" for t, c in named_themes.most_common()) or "-")
        )
    print(f"borderline set (technology, health): {border_hit} of {border_total} = {rate(border_hit, border_total)}")
    print("  themes fired: " + (", ".join(f"{t} {c}" for t, c in border_themes.most_common()) or "-"))
    both_hit, both_total = head_hit + border_hit, head_total + border_total
    print(f"headline + borderline: {both_hit} of {both_total} = {rate(both_hit, both_total)}")

    # examples: the most confident hit of each category in turn, then the next, ...
    by_group: dict[str, list] = {}
    for item in sorted(fired, key=lambda f: (-f[2], f[1])):
        by_group.setdefault(item[0], []).append(item)
    examples = []
    while len(examples) < N_EXAMPLES and any(by_group.values()):
        for group in sorted(by_group):
            if by_group[group] and len(examples) < N_EXAMPLES:
                examples.append(by_group[group].pop(0))
    print(f"\n{len(examples)} examples from the headline set (most confident first, categories in turn):")
    for group, doc_id, top, judged, labels, title in examples:
        line = f"  {doc_id:<28} {group:<22} {', '.join(labels)} (top {top:.2f}){judged}"
        print(line + (f"\n      {title}" if args.show_titles else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
