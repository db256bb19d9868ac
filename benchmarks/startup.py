"""Cold start: one article through the command line, beside importing scikit-learn, in one run.

    python benchmarks/startup.py [--repeat 9]

Every measurement is a fresh process, in --repeat interleaved rounds (this
machine's speed drifts from one minute to the next), and every figure is a
median:

  (r)  python -c "import sklearn.linear_model"             the reference
  (1)  arabictopics classify examples/article.txt           one article, the CLI
  (1s) arabictopics classify SEED                           a seed article of ../shared/seeds with its page
                                                            furniture (tag list, share line), when present
  (1j) arabictopics classify examples/article.txt --jobs 2  the same with --jobs 2 (one article: no workers)
  (2)  python -c "import arabictopics; arabictopics.load_model().classify(TEXT)"   through the API
  (f)  python -c "import numpy"                             the floor: what scoring imports (no SciPy)
  (p)  python -c "pass"                                     the interpreter alone

and the ratios to (r), each the median of the rounds' ratios; target (1)/(r)
<= 0.4.  Also: the shipped model's size and the time load_model() takes in
a process that has imported everything already.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "examples" / "article.txt"
SEEDS = ROOT.parent / "shared" / "seeds"


def _cli() -> list[str]:
    """The console script next to this interpreter (what users run), else ``python -m arabictopics``."""
    script = Path(sys.executable).parent / "arabictopics"
    return [str(script)] if script.exists() else [sys.executable, "-m", "arabictopics"]


def _timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="interleaved rounds (medians shown)")
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    text = ARTICLE.read_text(encoding="utf-8")
    seeds = sorted(SEEDS.glob("*.txt"))
    commands: dict[str, list[str]] = {
        "(r)": [sys.executable, "-c", "import sklearn.linear_model"],
        "(1)": [*_cli(), "classify", str(ARTICLE)],
        **({"(1s)": [*_cli(), "classify", str(seeds[0])]} if seeds else {}),
        "(1j)": [*_cli(), "classify", str(ARTICLE), "--jobs", "2"],
        "(2)": [sys.executable, "-c", f"import arabictopics; arabictopics.load_model().classify({text!r})"],
        "(f)": [sys.executable, "-c", "import numpy"],
        "(p)": [sys.executable, "-c", "pass"],
    }
    for command in commands.values():  # once each, so that every file is in the page cache
        _timed(command, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeat):
        for name, command in commands.items():
            times[name].append(_timed(command, env))

    def ratio(name: str) -> float:
        return statistics.median(t / r for t, r in zip(times[name], times["(r)"]))

    labels = {
        "(r)": 'python -c "import sklearn.linear_model"',
        "(1)": "arabictopics classify examples/article.txt",
        "(1s)": f"arabictopics classify {seeds[0].name if seeds else ''} (a seed, with its page furniture)",
        "(1j)": "arabictopics classify examples/article.txt --jobs 2",
        "(2)": "python -c: import arabictopics; load_model().classify(article)",
        "(f)": 'python -c "import numpy"',
        "(p)": 'python -c "pass"',
    }
    print(f"cold start, fresh processes, median of {args.repeat} interleaved rounds ({sys.executable})")
    for name in commands:
        target = "  [target <= 0.40]" if name == "(1)" else ""
        print(f"{name:5s} {labels[name]:70s} {statistics.median(times[name]):6.3f} s  x{ratio(name):.2f}{target}")

    sys.path.insert(0, str(ROOT))
    import arabictopics
    from arabictopics.persistence import default_model_path

    arabictopics.load_model()  # everything imported; then time a load of the file alone
    start = time.perf_counter()
    arabictopics.load_model(default_model_path())
    loading = time.perf_counter() - start
    size = default_model_path().stat().st_size / 1e6
    print(f"shipped model: {size:.2f} MB, load_model(path) {loading * 1000:.0f} ms once the modules are imported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
