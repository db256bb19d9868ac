"""Draw the held-out test set from ../shared/corpora (ids only).

The development set (benchmarks/devset/) has been used for choosing between
options over several rounds, and fixture batches were written for the
kinds of article it showed the model getting wrong, so its figures are
optimistic.  This set is drawn afterwards, once, by a fixed seed, from the
same news sections, excluding every development-set and off-topic-audit
article, and labeled on both levels by two labelers blind to each other and
to the model.  It is only measured, never used for choosing.

Routes (news sections only; the off-topic sections are measured by
benchmarks/offtopic.py):

* ``random``: a uniform draw of ``RANDOM_N`` articles;
* ``keyword:<theme>``: per theme, ``PER_THEME`` articles with at least two
  hits of that theme's keyword regex (benchmarks/devset/select_candidates.py);
* ``agenda``: ``AGENDA_N`` articles drawn uniformly from the long
  agenda-style articles (the development set's round-3 criteria).

Writes ``candidates.jsonl``: {"corpus", "id", "section", "route"}.  Usage:

    python benchmarks/heldout/select_candidates.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "devset"))

from select_candidates import (  # noqa: E402
    AGENDA_WORDS,
    CORPORA,
    MEETING_WORDS,
    ROUND3_MIN_CHARS,
    ROUND3_SECTIONS,
    THEME_KEYWORDS,
    take_into,
    write_candidates,
)

SEED = 20261207
RANDOM_N = 80
PER_THEME = 5
AGENDA_N = 30


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(HERE.parents[2] / "shared"))
    parser.add_argument("--out", default=str(HERE / "candidates.jsonl"))
    args = parser.parse_args(argv)
    corpora = Path(args.shared) / "corpora"
    if not corpora.is_dir():
        print(f"skipped: {corpora} not found", file=sys.stderr)
        return 0
    used = set()
    for path in (HERE.parent / "devset" / "labels.jsonl", HERE.parent / "offtopic" / "audit.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            used.add((rec["corpus"], rec["id"]))
    news = []
    for name, sections in CORPORA.items():
        for line in (corpora / name).read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec["label"] in sections["news"] and (name, rec["id"]) not in used:
                news.append((name, rec["id"], rec["label"], rec["text"]))
    news.sort(key=lambda r: (r[0], r[1]))
    rng = random.Random(SEED)
    chosen: dict[tuple[str, str], dict] = {}

    def take(items, limit, route):
        take_into(chosen, items, limit, route, rng)

    take(news, RANDOM_N, "random")
    for theme, pattern in THEME_KEYWORDS.items():
        rx = re.compile(pattern)
        take([item for item in news if len(rx.findall(item[3])) >= 2], PER_THEME, f"keyword:{theme}")
    meeting, agenda = re.compile(MEETING_WORDS), re.compile(AGENDA_WORDS)
    take(
        [
            item
            for item in news
            if item[2] in ROUND3_SECTIONS
            and len(item[3]) >= ROUND3_MIN_CHARS
            and len(meeting.findall(item[3])) >= 2
            and agenda.search(item[3])
        ],
        AGENDA_N,
        "agenda",
    )
    write_candidates(chosen, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
