"""Run the property tests of tests/test_fuzz.py with many examples, and the regex timing checks of
tests/test_text_complexity.py, and print, per property, how many examples ran and the outcome.

The properties cover text functions, loaders (JSONL, CSV/TSV with stray quotes, stdin), classification of
any text, and model files (flipped bytes, any metadata, members declaring any size).

    python benchmarks/fuzz.py [--profile long] [-k EXPRESSION]

The "long" profile (tests/conftest.py) runs 20,000 examples per property, on one
core (BLAS threads are limited to one); "ci" is the quick profile of the test
suite.  Same as ``HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py``,
with a summary table.  Exit code: pytest's (0 when every property held).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PHASE_RE = re.compile(
    r"during (\w+) phase \(([\d.]+) seconds\):.*?(\d+) passing examples, (\d+) failing examples, (\d+) invalid",
    re.DOTALL,
)


class _Collector:
    """pytest plugin: the outcome, duration and Hypothesis statistics of each test."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.rows.append({"test": report.nodeid.split("::")[-1], "outcome": report.outcome, "seconds": 0.0})
            self.rows[-1]["seconds"] = report.duration

    def pytest_runtest_teardown(self, item) -> None:
        stats = getattr(item, "hypothesis_statistics", "")
        row = next((r for r in reversed(self.rows) if r["test"] == item.nodeid.split("::")[-1]), None)
        if row is None:
            return
        phases = {m.group(1): (int(m.group(3)), int(m.group(4)), int(m.group(5))) for m in _PHASE_RE.finditer(stats)}
        row["generated"] = phases.get("generate", (0, 0, 0))[0]
        row["passing"] = sum(p[0] for p in phases.values())
        row["failing"] = sum(p[1] for p in phases.values())
        row["invalid"] = sum(p[2] for p in phases.values())
        stopped = re.search(r"Stopped because (.*)", stats)
        row["stopped"] = stopped.group(1).strip() if stopped else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="long", choices=("ci", "long"), help="Hypothesis profile (default: long)")
    parser.add_argument("-k", dest="keyword", help="only the properties matching this pytest -k expression")
    args = parser.parse_args(argv)
    os.environ["HYPOTHESIS_PROFILE"] = args.profile
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    import pytest

    collector = _Collector()
    # the properties, then the timing-ratio checks of every regex-based text function
    pytest_args = ["-q", "-p", "no:warnings", "--no-header", "tests/test_fuzz.py", "tests/test_text_complexity.py"]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    start = time.perf_counter()
    code = pytest.main(pytest_args, plugins=[collector])
    total = time.perf_counter() - start
    print(f"\nprofile {args.profile!r}: {len(collector.rows)} properties in {total / 60:.1f} min")
    print(f"{'property':<52} {'generated':>9} {'passing':>8} {'failing':>7} {'invalid':>7} {'seconds':>8}  outcome")
    for row in collector.rows:
        print(
            f"{row['test']:<52} {row.get('generated', 0):>9} {row.get('passing', 0):>8} {row.get('failing', 0):>7} "
            f"{row.get('invalid', 0):>7} {row['seconds']:>8.1f}  {row['outcome']}"
            + (f" (stopped because {row['stopped']})" if row.get("stopped") else "")
        )
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
