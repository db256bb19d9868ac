"""A saved model loads and scores identically under the oldest and newest scikit-learn we declare.

    python benchmarks/sklearn_versions.py [--workdir DIR] [--oldest V] [--newest V]

Model files (format 2) hold data only and scoring does not import
scikit-learn; scikit-learn trains (``arabictopics.train``).  This script
checks both claims across the range that pyproject.toml declares
(``"scikit-learn>=X,<Y"``):

* the versions: the oldest is the newest patch release of the lower bound's
  minor (1.6.1 for ``>=1.6``), the newest the newest release below the upper
  bound, both as ``pip index versions scikit-learn`` lists them; or given
  with ``--oldest`` / ``--newest``;
* two fresh venvs (in a temporary directory, removed at the end, or in
  ``--workdir``, kept and re-used on the next run), each with one of the two
  scikit-learn versions and the project installed non-editable from the
  repository root (one wheel, built once from a copy of the work tree, so
  both venvs hold the same code even when the tree changes during the run,
  and the build writes nothing into it); numpy and scipy are what
  pip resolves for each, and are reported;
* training: in each venv, ``arabictopics.train`` on every 4th record of
  fixtures/articles.jsonl (``cv=2``, ``random_state=0``), saved with
  ``arabictopics.save_model`` as old.atm (oldest venv) and new.atm (newest);
* scoring: in each venv, old.atm, new.atm and the shipped default model
  score the seed articles of ../shared/seeds/*.txt (skipped when absent) and
  the first 50 fixture texts: ``predict_proba``, ``predict_levels`` (to
  scores_<venv>_<model>.npz) and the labels and mentions of
  ``classify_many`` (to classify_<venv>_<model>.json);
* the comparison: for each model file, the oldest venv's results must equal
  the newest's exactly (``numpy.array_equal``, equal labels and mentions).

Prints a table (model file x venv: versions, largest absolute difference,
identical or not), the training time in each venv, and whether scoring
imported scikit-learn.  Exit status: 0 when every model scores identically
in both venvs, 1 when one differs or a training or scoring step fails (its
traceback is printed), 2 on a setup error (no venv, pip failing, no version
range in pyproject.toml).  Needs network access to PyPI (a few minutes on a
first run, mostly pip).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "articles.jsonl"
SEEDS = ROOT.parent / "shared" / "seeds"
ROLES = ("oldest", "newest")
MODELS = {"old": "old.atm", "new": "new.atm", "default": "default model"}
COPY_IGNORE = (".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", ".venv", ".drafting")
TRAIN_EVERY = 4
N_FIXTURE_TEXTS = 50
DISTRIBUTIONS = ("scikit-learn", "numpy", "scipy")
TABLE = "{:<14} {:<7} {:<13} {:<8} {:<8} {:>11}  {}"
TRAIN_TABLE = "{:<12} {:<13} {:>8}  {:>8}  {:>6}  {:>11}"

TRAIN_SCRIPT = """
import json, sys, time, traceback
from importlib.metadata import version
import arabictopics

data, target = sys.argv[1], sys.argv[2]
start = time.perf_counter()
try:
    model, metadata = arabictopics.train(data, cv=2, random_state=0)
    seconds = time.perf_counter() - start
    arabictopics.save_model(model, target, metadata=metadata)
except Exception:
    print(json.dumps({"error": traceback.format_exc()}))
    sys.exit(1)
macro = (metadata.get("cv_metrics") or {}).get("macro_f1")
print(json.dumps({
    "seconds": seconds,
    "themes": [str(t) for t in model.classes_],
    "articles": metadata["training_data"]["articles"],
    "warnings": metadata.get("warnings", []),
    "cv_macro_f1": macro,
    "scikit-learn": version("scikit-learn"),
}))
"""

SCORE_SCRIPT = """
import json, sys, traceback
from importlib.metadata import version
from pathlib import Path
import numpy as np
import arabictopics

workdir, role, models = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
texts = json.loads((workdir / "texts.json").read_text(encoding="utf-8"))
out = {
    "versions": {name: version(name) for name in ("scikit-learn", "numpy", "scipy", "arabictopics")},
    "python": sys.version.split()[0],
    "arabictopics_file": arabictopics.__file__,
    "models": {},
}
for name in models:
    path = None if name == "default" else workdir / (name + ".atm")
    if path is not None and not path.exists():
        out["models"][name] = {"error": f"{path.name} is missing (its training failed)"}
        continue
    try:
        model = arabictopics.load_model(path)
        proba = model.predict_proba(texts)
        about, named = model.predict_levels(texts)
        answers = model.classify_many(texts)
    except Exception:
        out["models"][name] = {"error": traceback.format_exc()}
        continue
    np.savez(workdir / f"scores_{role}_{name}.npz", proba=proba, levels_proba=about, levels_mentions=named)
    rows = [{"labels": list(a.labels), "mentions": dict(a.mentions)} for a in answers]
    (workdir / f"classify_{role}_{name}.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    out["models"][name] = {"themes": [str(t) for t in model.classes_], "shape": list(proba.shape)}
out["sklearn_imported"] = "sklearn" in sys.modules
print(json.dumps(out))
"""

COMPARE_SCRIPT = """
import json, sys
from pathlib import Path
import numpy as np

workdir, models = Path(sys.argv[1]), sys.argv[2:]


def load(role, name):
    with np.load(workdir / f"scores_{role}_{name}.npz") as npz:
        arrays = {key: npz[key] for key in npz.files}
    rows = json.loads((workdir / f"classify_{role}_{name}.json").read_text(encoding="utf-8"))
    return arrays, rows


def max_diff(a, b):
    if a.shape != b.shape:
        return float("inf")
    return float(np.abs(a.astype(float) - b.astype(float)).max()) if a.size else 0.0


out = {}
for name in models:
    (a, rows_a), (b, rows_b) = load("oldest", name), load("newest", name)
    differ = [key for key in ("proba", "levels_proba", "levels_mentions") if not np.array_equal(a[key], b[key])]
    for key in ("labels", "mentions"):
        if [r[key] for r in rows_a] != [r[key] for r in rows_b]:
            differ.append("classify_many " + key)
    out[name] = {
        "max_abs_diff": max(max_diff(a[k], b[k]) for k in ("proba", "levels_proba")),
        "differ": differ,
        "rows_differing": int(sum(ra != rb for ra, rb in zip(rows_a, rows_b))),
    }
if "old" in models and "new" in models:  # context only: what training under the two versions changes
    (old, rows_old), (new, rows_new) = load("newest", "old"), load("newest", "new")
    out["_old_vs_new"] = {
        "max_abs_diff": max_diff(old["proba"], new["proba"]),
        "same_labels": [r["labels"] for r in rows_old] == [r["labels"] for r in rows_new],
        "same_mentions": [r["mentions"] for r in rows_old] == [r["mentions"] for r in rows_new],
    }
print(json.dumps(out))
"""


class SetupError(Exception):
    """The environment could not be prepared (exit status 2)."""


def parse_version(text: str) -> tuple[int, ...]:
    """The leading release numbers of ``text``: ``"1.4.1.post1"`` -> (1, 4, 1)."""
    match = re.match(r"\d+(?:\.\d+)*", text.strip())
    if match is None:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(part) for part in match.group().split("."))


def declared_range(pyproject: Path) -> tuple[str, str]:
    """The ``(lower, upper)`` of the ``"scikit-learn>=X,<Y"`` dependency."""
    try:
        import tomllib

        dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    except ImportError:  # Python 3.10: the quoted strings of the file
        dependencies = re.findall(r'"([^"]*)"', pyproject.read_text(encoding="utf-8"))
    except (OSError, KeyError, ValueError) as exc:
        raise SetupError(f"cannot read the dependencies of {pyproject}: {exc}") from None
    pattern = re.compile(r"^\s*scikit-learn\s*>=\s*([\d.]+)\s*,\s*<\s*([\d.]+)\s*$")
    for dependency in dependencies:
        match = pattern.match(dependency)
        if match:
            return match.group(1), match.group(2)
    raise SetupError(
        f'{pyproject} declares no "scikit-learn>=X,<Y" dependency; give the versions with --oldest and --newest.'
    )


def pick_versions(available: list[str], lower: str, upper: str) -> tuple[str, str]:
    """Oldest: the newest release of the lower bound's minor at or above it; newest: the newest below ``upper``."""
    low, high = parse_version(lower), parse_version(upper)
    releases = [v for v in available if re.fullmatch(r"\d+(?:\.\d+)*(?:\.post\d+)?", v)]
    same_minor = [v for v in releases if parse_version(v)[:2] == low[:2] and parse_version(v) >= low]
    below = [v for v in releases if low <= parse_version(v) < high]
    if not same_minor or not below:
        raise SetupError(f"PyPI lists no scikit-learn release for >={lower},<{upper} (it lists: {', '.join(releases)})")
    return max(same_minor, key=parse_version), max(below, key=parse_version)


def run(cmd: list[str], what: str, cwd: Path) -> str:
    """Run a setup command; its stdout, or :class:`SetupError` with its output."""
    proc = subprocess.run(cmd, cwd=cwd, env=child_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        output = f"{proc.stdout}{proc.stderr}".rstrip()
        raise SetupError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{output}")
    return proc.stdout


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def installed(python: Path, distribution: str) -> str | None:
    """Version of ``distribution`` in the venv of ``python``, or None."""
    code = f"from importlib.metadata import version; print(version({distribution!r}))"
    proc = subprocess.run([str(python), "-I", "-c", code], env=child_env(), capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def ensure_venv(venv: Path) -> bool:
    """Create ``venv`` unless it works already; whether it was re-used."""
    if venv_python(venv).exists() and installed(venv_python(venv), "pip"):
        return True
    if venv.exists():
        shutil.rmtree(venv)
    run([sys.executable, "-m", "venv", str(venv)], f"creating the venv {venv}", venv.parent)
    return False


def available_versions(python: Path, workdir: Path) -> list[str]:
    out = run(
        [str(python), "-m", "pip", "index", "versions", "scikit-learn"], "pip index versions scikit-learn", workdir
    )
    match = re.search(r"Available versions:\s*(.+)", out)
    if match is None:
        raise SetupError(f"cannot read the output of pip index versions scikit-learn:\n{out}")
    return [v.strip() for v in match.group(1).split(",") if v.strip()]


def build_wheel(python: Path, workdir: Path) -> Path:
    """One wheel of the repository, for both venvs, built from a copy of the
    work tree (setuptools writes build/ and *.egg-info into the tree it builds)."""
    source, dist = workdir / "source", workdir / "wheel"
    for old in (source, dist):
        if old.exists():
            shutil.rmtree(old)
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*COPY_IGNORE))
    run(
        [str(python), "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(source)],
        f"building the wheel of {ROOT}",
        workdir,
    )
    wheels = sorted(dist.glob("arabictopics-*.whl"))
    if len(wheels) != 1:
        raise SetupError(f"expected one arabictopics wheel in {dist}, found {[w.name for w in wheels]}")
    return wheels[0]


def install(python: Path, wheel: Path, sklearn: str, reused: bool, workdir: Path) -> None:
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    what = f"pip install of the project with scikit-learn=={sklearn}"
    run([*pip, str(wheel), f"scikit-learn=={sklearn}"], what, workdir)
    if reused:  # same project version already installed: pip would keep the old code
        run([*pip, "--no-deps", "--force-reinstall", str(wheel)], "pip re-install of the project", workdir)
    got = installed(python, "scikit-learn")
    if got != sklearn:
        raise SetupError(f"asked pip for scikit-learn=={sklearn}, the venv has {got}")


def child(python: Path, script: str, args: list[str], workdir: Path) -> tuple[dict, str]:
    """Run ``script`` in the venv of ``python`` (isolated: not the work tree's code); its JSON and its stderr."""
    proc = subprocess.run(
        [str(python), "-I", "-c", script, *args], cwd=workdir, env=child_env(), capture_output=True, text=True
    )
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        out = None
    if out is None or (proc.returncode != 0 and "error" not in out):
        out = {"error": f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}".rstrip()}
    return out, proc.stderr


def write_inputs(workdir: Path) -> tuple[Path, int, int]:
    """The training subset and the texts to score; (subset path, number of seeds, number of texts)."""
    lines = FIXTURES.read_text(encoding="utf-8").splitlines()
    subset = workdir / "train_subset.jsonl"
    subset.write_text("\n".join(lines[::TRAIN_EVERY]) + "\n", encoding="utf-8")
    seeds = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []
    texts = [p.read_text(encoding="utf-8") for p in seeds]
    texts += [json.loads(line)["text"] for line in lines[:N_FIXTURE_TEXTS]]
    (workdir / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    return subset, len(seeds), len(texts)


def git_state() -> str:
    proc = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if proc.returncode != 0:
        return "not a git checkout"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True)
    return proc.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def ok(scored: dict, name: str) -> bool:
    """Whether the scoring run ``scored`` scored the model ``name``."""
    return "error" not in scored.get("models", {}).get(name, {"error": "not scored"})


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())


def check(workdir: Path, oldest: str | None, newest: str | None) -> int:
    start = time.perf_counter()
    print(f"repository: {ROOT} at {git_state()}")
    print(f"workdir: {workdir}")
    venvs = {role: workdir / f"venv-{role}" for role in ROLES}
    reused = {}
    for role in ROLES:
        reused[role] = ensure_venv(venvs[role])
    pythons = {role: venv_python(venvs[role]) for role in ROLES}
    if oldest is None or newest is None:
        lower, upper = declared_range(ROOT / "pyproject.toml")
        picked = pick_versions(available_versions(pythons["oldest"], workdir), lower, upper)
        print(f"declared: scikit-learn>={lower},<{upper}; PyPI's oldest and newest in range: {', '.join(picked)}")
        oldest, newest = oldest or picked[0], newest or picked[1]
    versions = {"oldest": oldest, "newest": newest}
    wheel = build_wheel(pythons["oldest"], workdir)
    print(f"wheel: {wheel.name}")
    for role in ROLES:
        t0 = time.perf_counter()
        install(pythons[role], wheel, versions[role], reused[role], workdir)
        how = "re-used" if reused[role] else "new"
        print(f"venv {role}: scikit-learn {versions[role]} ({how} venv, {time.perf_counter() - t0:.0f} s)")
    setup_seconds = time.perf_counter() - start

    subset, n_seeds, n_texts = write_inputs(workdir)
    seeds_note = f"{n_seeds} seed articles from {SEEDS}" if n_seeds else f"no seeds ({SEEDS} absent)"
    print(f"texts scored: {n_texts} ({seeds_note} + the first {N_FIXTURE_TEXTS} fixture texts)")
    for stale in [*workdir.glob("scores_*.npz"), *workdir.glob("classify_*.json"), *workdir.glob("*.atm")]:
        stale.unlink()

    failures: list[str] = []
    trained: dict[str, dict] = {}
    for role, name in (("oldest", "old"), ("newest", "new")):
        out, stderr = child(pythons[role], TRAIN_SCRIPT, [str(subset), str(workdir / MODELS[name])], workdir)
        trained[role] = out
        out["stderr_warnings"] = sorted({line.strip() for line in stderr.splitlines() if "Warning" in line})
        if "error" in out:
            failures.append(f"training under scikit-learn {versions[role]} failed:\n{indent(trained[role]['error'])}")
    scored: dict[str, dict] = {}
    for role in ROLES:
        out, _ = child(pythons[role], SCORE_SCRIPT, [str(workdir), role, *MODELS], workdir)
        scored[role] = out
        if "error" in out:
            failures.append(f"scoring under scikit-learn {versions[role]} failed:\n{indent(scored[role]['error'])}")
            continue
        for name, result in out["models"].items():
            if "error" in result:
                failures.append(
                    f"{MODELS[name]} under scikit-learn {versions[role]} does not load or score:\n"
                    f"{indent(result['error'])}"
                )
    comparable = [name for name in MODELS if all(ok(scored[role], name) for role in ROLES)]
    compared: dict[str, dict] = {}
    if comparable:
        out, _ = child(pythons["newest"], COMPARE_SCRIPT, [str(workdir), *comparable], workdir)
        if "error" in out:
            failures.append(f"the comparison failed:\n{indent(out['error'])}")
        else:
            compared = out

    print()
    table = [TABLE.format("model file", "venv", "scikit-learn", "numpy", "scipy", "max |diff|", "identical")]
    table.append("-" * len(table[0]))
    for name, label in MODELS.items():
        result = compared.get(name)
        for role in ROLES:
            got = scored[role].get("versions", {})
            diff = "-" if result is None else f"{result['max_abs_diff']:.3g}"
            same = "no (not scored)" if result is None else ("yes" if not result["differ"] else "NO")
            table.append(TABLE.format(label, role, *(got.get(d, "?") for d in DISTRIBUTIONS), diff, same))
        if result is not None and result["differ"]:
            failures.append(
                f"{label}: the oldest and newest venvs differ in {', '.join(result['differ'])} "
                f"(max |diff| {result['max_abs_diff']:.3g}, {result['rows_differing']} classify_many rows differ)"
            )
    print("\n".join(table))
    print()
    print(TRAIN_TABLE.format("training in", "scikit-learn", "seconds", "articles", "themes", "cv macro F1"))
    for role in ROLES:
        t = trained[role]
        if "seconds" in t:
            f1 = "-" if t.get("cv_macro_f1") is None else f"{t['cv_macro_f1']:.3f}"
            seconds = f"{t['seconds']:.1f}"
            print(TRAIN_TABLE.format(role, versions[role], seconds, t["articles"], len(t["themes"]), f1))
        else:
            print(TRAIN_TABLE.format(role, versions[role], "failed", "", "", ""))
    for role in ROLES:
        for line in trained[role].get("stderr_warnings", []):
            print(f"  warning while training in the {role} venv: {line}")
    print()
    for role in ROLES:
        if "sklearn_imported" in scored[role]:
            imported = "imported" if scored[role]["sklearn_imported"] else "did not import"
            where = scored[role]["arabictopics_file"]
            print(f"scoring in the {role} venv {imported} scikit-learn (arabictopics from {where})")
    context = compared.get("_old_vs_new")
    if context:
        print(
            f"old.atm vs new.atm (trained under {oldest} vs {newest}), in the newest venv: max |diff| "
            f"{context['max_abs_diff']:.3g}, same labels: {context['same_labels']}, "
            f"same mentions: {context['same_mentions']} (for context, not checked)"
        )
    print(f"setup {setup_seconds:.0f} s, total {time.perf_counter() - start:.0f} s")
    print()
    if failures:
        print("FAILED:")
        for failure in failures:
            print(f"- {failure}")
        return 1
    print(f"OK: every model file scores identically under scikit-learn {oldest} and {newest}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="keep the venvs and results here (re-used on the next run)")
    parser.add_argument("--oldest", help="scikit-learn version of the oldest venv (default: from pyproject.toml)")
    parser.add_argument("--newest", help="scikit-learn version of the newest venv (default: from pyproject.toml)")
    args = parser.parse_args(argv)
    if args.workdir is not None:
        workdir = args.workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="sklearn_versions_"))
    try:
        return check(workdir, args.oldest, args.newest)
    except SetupError as exc:
        print(f"\nsetup error: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
