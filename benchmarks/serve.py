"""A bounded load test of ``arabictopics serve``, on loopback only, beside the CLI on the same articles.

    python benchmarks/serve.py [--workers 2] [--singles 5000] [--batches 1000] [--batch-size 64]
                               [--concurrency 32] [--max-seconds 900]

Starts ``arabictopics serve --workers N`` on a free port of 127.0.0.1 and sends, from one asyncio
process over keep-alive connections (a minimal HTTP/1.1 client, so that the client takes little of
the machine's CPU from the server):

  (1) --singles requests of one article each ({"id", "text"}), --concurrency at a time;
  (2) --batches requests of --batch-size articles each ({"articles": [...]}), --concurrency at a time.

Prints for each: requests/s, articles/s, p50 and p99 latency, errors (any answer other than 200 with
the right number of records, or a failed connection; must be 0), the server's resident memory (all
its processes) at the start, the peak and the end of the phase (and the peaks of its first and last
tenth: flat when memory does not grow with the load), and the CPU seconds of each scoring process
(even when the workers share the load).  Then ``arabictopics classify
--jobs N`` (and --jobs 1) on the same articles as (2), written to a JSONL file, whole runs, and the
ratio: issue 18's target is batch throughput with --workers 2 >= 0.8x the CLI's --jobs 2.

Articles: the real articles of ../shared/corpora (ANT v2.1) when present, else the fixtures.  Every
loop is bounded by its request count and by --max-seconds; only 127.0.0.1 is ever contacted.
Exit code 1 when a request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only


def load_texts() -> tuple[list[str], str]:
    corpus = ROOT.parent / "shared" / "corpora" / "ant_v2.1_multisource.sample.jsonl"
    if corpus.exists():
        lines = corpus.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["text"] for line in lines], "ANT v2.1 real articles"
    lines = (ROOT / "fixtures" / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines], "fixtures"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class RssSampler:
    """The resident memory of a process and its children, sampled every 0.1 s in a thread."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def cpu(self) -> list[float]:
        """CPU seconds of each worker process so far (the server's children, else the server itself)."""
        out = []
        for proc in self.process.children(recursive=True) or [self.process]:
            try:
                times = proc.cpu_times()
                out.append(times.user + times.system)
            except Exception:
                pass
        return out

    def rss(self) -> int:
        total = 0
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except Exception:  # a process that just ended
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.rss())
            time.sleep(0.1)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(self.rss())


def request_bytes(port: int, body: bytes) -> bytes:
    head = (
        f"POST /v1/classify HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def one_connection(
    port: int, requests: list[tuple[bytes, int]], latencies: list[float], errors: list[str], deadline: float
) -> None:
    """Send ``requests`` (bytes, records expected) one after the other on one keep-alive connection."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        for payload, n_records in requests:
            if time.monotonic() > deadline:
                errors.append("not sent: --max-seconds reached")
                continue
            start = time.perf_counter()
            writer.write(payload)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors.append(f"HTTP {status}: {body[:200]!r}")
                continue
            answer = json.loads(body)
            got = len(answer["results"]) if "results" in answer else 1
            if got != n_records or ("results" not in answer and "labels" not in answer):
                errors.append(f"{got} records for {n_records} articles")
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        errors.append(f"connection failed: {exc!r}")
    finally:
        writer.close()


async def load(port: int, requests: list[tuple[bytes, int]], concurrency: int, max_seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + max_seconds
    shares = [requests[i::concurrency] for i in range(concurrency)]
    start = time.perf_counter()
    await asyncio.gather(*(one_connection(port, share, latencies, errors, deadline) for share in shares if share))
    elapsed = time.perf_counter() - start
    return {"elapsed": elapsed, "latencies": sorted(latencies), "errors": errors}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def phase(name: str, port: int, pid: int, requests: list[tuple[bytes, int]], args: argparse.Namespace) -> dict:
    articles = sum(n for _, n in requests)
    with RssSampler(pid) as rss:
        before = rss.cpu()
        result = asyncio.run(load(port, requests, args.concurrency, args.max_seconds))
        cpu = [round(b - a, 1) for a, b in zip(before, rss.cpu())]
    lat = result["latencies"]
    mib = [s / 2**20 for s in rss.samples]
    tenth = max(1, len(mib) // 10)
    row = {
        "name": name,
        "requests": len(requests),
        "articles": articles,
        "seconds": result["elapsed"],
        "articles_per_s": articles / result["elapsed"],
        "requests_per_s": len(requests) / result["elapsed"],
        "p50_ms": percentile(lat, 0.50) * 1000,
        "p99_ms": percentile(lat, 0.99) * 1000,
        "errors": len(result["errors"]),
        "first_errors": result["errors"][:3],
        "worker_cpu_s": cpu,
        "rss_start_mib": mib[0],
        "rss_peak_mib": max(mib),
        "rss_end_mib": mib[-1],
        "rss_first_tenth_mib": max(mib[:tenth]),
        "rss_last_tenth_mib": max(mib[-tenth:]),
    }
    print(
        f"{name:<28} {len(requests):>6} req {articles:>7} articles in {result['elapsed']:7.1f} s: "
        f"{row['articles_per_s']:8.1f} articles/s {row['requests_per_s']:7.1f} req/s  "
        f"p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  errors {row['errors']}  "
        f"RSS {row['rss_start_mib']:.0f} -> peak {row['rss_peak_mib']:.0f} -> end {row['rss_end_mib']:.0f} MiB "
        f"(max in first/last tenth {row['rss_first_tenth_mib']:.0f}/{row['rss_last_tenth_mib']:.0f}); "
        f"CPU s per worker {cpu}",
        flush=True,
    )
    for error in row["first_errors"]:
        print(f"    error: {error}", flush=True)
    return row


def cli_run(path: Path, jobs: int, n: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "arabictopics", "classify", str(path), "--jobs", str(jobs), "-q", "-o", os.devnull],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    print(f"{f'CLI classify --jobs {jobs}':<28} {n:>18} articles in {elapsed:7.1f} s: {n / elapsed:8.1f} articles/s")
    return n / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--singles", type=int, default=5000, help="single-article requests (default: 5000)")
    parser.add_argument("--batches", type=int, default=1000, help="batch requests (default: 1000)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-seconds", type=float, default=900, help="time limit of each load phase")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    texts, source = load_texts()
    port = free_port()
    print(
        f"arabictopics serve --workers {args.workers} on {HOST}:{port}; {source}, {len(texts)} distinct; "
        f"concurrency {args.concurrency}; {os.cpu_count()} cores",
        flush=True,
    )
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    server = subprocess.Popen(
        [sys.executable, "-m", "arabictopics", "serve", "--port", str(port), "--workers", str(args.workers)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    rows = []
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server stopped: {Path(log.name).read_text()}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server was not ready in 120 s")
            time.sleep(0.2)
        singles = [
            (
                request_bytes(
                    port, json.dumps({"id": str(i), "text": texts[i % len(texts)]}, ensure_ascii=False).encode()
                ),
                1,
            )
            for i in range(args.singles)
        ]
        batch_texts = [texts[i % len(texts)] for i in range(args.batches * args.batch_size)]
        batches = []
        for b in range(args.batches):
            chunk = batch_texts[b * args.batch_size : (b + 1) * args.batch_size]
            articles = [{"id": str(i), "text": t} for i, t in enumerate(chunk)]
            body = json.dumps({"articles": articles}, ensure_ascii=False).encode()
            batches.append((request_bytes(port, body), len(chunk)))
        # warm-up: both workers have scored before the clock starts
        asyncio.run(load(port, singles[: 4 * args.concurrency], args.concurrency, 60))
        rows.append(phase("single articles", port, server.pid, singles, args))
        rows.append(phase(f"batches of {args.batch_size}", port, server.pid, batches, args))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        os.unlink(log.name)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "articles.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for i, text in enumerate(batch_texts):
                fh.write(json.dumps({"id": str(i), "text": text}, ensure_ascii=False) + "\n")
        cli = {jobs: cli_run(path, jobs, len(batch_texts)) for jobs in (args.workers, 1)}
    batch_rate = rows[1]["articles_per_s"]
    ratio = batch_rate / cli[args.workers]
    verdict = "met" if ratio >= 0.8 else "NOT met"
    single_ratio = rows[0]["articles_per_s"] / cli[args.workers]
    errors = sum(row["errors"] for row in rows)
    print(
        f"\nbatches / CLI --jobs {args.workers}: {ratio:.2f}x (target >= 0.80x: {verdict}); "
        f"single articles / CLI --jobs {args.workers}: {single_ratio:.2f}x; errors: {errors} (must be 0)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"phases": rows, "cli": cli, "ratio": ratio}, indent=1))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
