"""Resident memory with N consultations open in one process, and start-up time.

    python bench/scale.py --consults 10000

Memory: one Service opens N consultations (each with a few facts, so each has findings), then
reports the process's peak resident set size. Start-up: wall time from launching
`neuroladder chat` to its first reply (imports, ruleset registration, SQLite open), best of 5.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def startup_seconds(tmp: Path) -> float:
    best = float("inf")
    for i in range(5):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "neuroladder.bot.cli.main", "chat", "--db", str(tmp / f"s{i}.db")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        proc.stdout.readline()  # the first line of the first reply
        best = min(best, time.perf_counter() - start)
        proc.stdin.close()
        proc.wait(timeout=30)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--consults", type=int, default=10000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = rss_mb()
        service = Service(Store(tmp / "scale.db"))
        loaded = rss_mb()
        start = time.perf_counter()
        for i in range(args.consults):
            service.handle("bench", f"chat-{i}", f"gabapentin {300 + i % 2000} mg/day; {20 + i % 80} yo")
        opened = time.perf_counter() - start
        peak = rss_mb()
        # every consult still answers after all are open
        for i in range(0, args.consults, max(1, args.consults // 100)):
            [reply] = service.handle("bench", f"chat-{i}", "duloxetine 60 mg")
            assert "Noted" in reply.plain()
        after = rss_mb()
        print(f"open consultations: {args.consults} (opened in {opened:.1f} s)")
        print(
            f"resident memory: {after:.0f} MB with all open (interpreter {base:.0f} MB, "
            f"after start-up {loaded:.0f} MB, after opening {peak:.0f} MB)"
        )
        print(f"start-up to first reply (best of 5): {startup_seconds(tmp):.2f} s")


if __name__ == "__main__":
    main()
