"""Rebuild the shipped model from fixtures/ (the exact command that builds it).

    python training/train_default.py

Trains on fixtures/articles.jsonl with seed 0 and 5-fold CV, writes
arabictopics/data/default_model.atm, pins its payload sha256 in
arabictopics/_default_model.py, writes training/default_model_metrics.json,
and prints the cross-validated per-theme scores.  When ../shared/seeds is
present it also prints the seed articles' themes against their expectations.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arabictopics.evaluation import EvaluationReport  # noqa: E402
from arabictopics.taxonomy import theme_labels  # noqa: E402
from arabictopics.training import train  # noqa: E402

FIXTURES = ROOT / "fixtures" / "articles.jsonl"
MODEL = ROOT / "arabictopics" / "data" / "default_model.atm"
PIN = ROOT / "arabictopics" / "_default_model.py"
METRICS = ROOT / "training" / "default_model_metrics.json"
SEEDS = ROOT.parent / "shared" / "seeds"


def seed_check(model) -> int:
    """Print the seed articles on the two-level rule of expected.json; return how many are right."""
    expected_file = SEEDS / "expected.json"
    if not expected_file.exists():
        print("(seed articles not found; skipped)")
        return 0
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    names = sorted(name for name in expected if not name.startswith("_"))
    texts = [(SEEDS / name).read_text(encoding="utf-8") for name in names]
    print(
        "\nseed articles (every 'about' theme a label; every 'named' theme a label or a mention; "
        "nothing outside about+named+either; evidence quoted from the article):"
    )
    right = 0
    for name, text, result in zip(names, texts, model.classify_many(texts)):
        want = expected[name]
        labels, mentions = set(result.labels), set(result.mentions)
        about, named, either = set(want["about"]), set(want["named"]), set(want["either"])
        missing_about = sorted(about - labels)
        missing_named = sorted(named - labels - mentions)
        outside = sorted((labels | mentions) - about - named - either)
        unquoted = sorted(t for t, s in {**result.evidence, **result.mentions}.items() if s not in text)
        ok = not (missing_about or missing_named or outside or unquoted)
        right += ok
        print(f"  {'OK  ' if ok else 'MISS'} {name}: labels {list(result.labels)}, mentions {list(result.mentions)}")
        if not ok:
            print(
                f"       about missing {missing_about}; named missing {missing_named}; outside the lists {outside}"
                + (f"; evidence not in the text {unquoted}" if unquoted else "")
            )
    print(f"  seeds right: {right}/{len(names)}")
    return right


def main() -> int:
    model, meta = train(FIXTURES, known_labels=theme_labels(), cv=5, random_state=0, output=MODEL)
    PIN.write_text(
        '"""sha256 of the shipped model\'s payload, written by training/train_default.py.\n\n'
        "load_model() refuses a default model file whose payload does not match.\n"
        '"""\n\n'
        f'DEFAULT_MODEL_SHA256 = "{meta["payload_sha256"]}"\n',
        encoding="utf-8",
    )
    report = meta["cv_metrics"]
    summary = {k: v for k, v in meta.items() if k != "cv_metrics"}
    METRICS.write_text(
        json.dumps({"model": summary, "cv": report}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    shown = EvaluationReport.from_dict(report)
    shown.false_positives, shown.misses = shown.false_positives[:5], shown.misses[:5]
    rendered = shown.format()
    print(f"trained on {meta['training_data']['articles']} articles; {MODEL.stat().st_size / 1e6:.2f} MB")
    print("5-fold cross-validated scores (thresholds tuned on the same out-of-fold predictions):")
    print(rendered)
    seed_check(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
