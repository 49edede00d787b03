"""Wall time of a tutor turn with the real Service: alternately "/tutor next" (a new case) and a
free-text answer that matches no option, after one "/tutor" has entered tutor mode.

    python bench/tutor_turn.py [--turns 60]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "tutor.db")
        service = Service(store)
        service.handle("bench", "c", "/tutor", author="u")
        times = []
        for i in range(args.turns):
            text = "zzz unmatched" if i % 2 else "/tutor next"
            start = time.perf_counter()
            service.handle("bench", "c", text, author="u")
            times.append((time.perf_counter() - start) * 1000)
        store.close()
    times.sort()
    print(
        f"tutor turn: median {statistics.median(times):.1f} ms, p90 {times[int(len(times) * 0.9)]:.1f} ms "
        f"over {len(times)} turns"
    )


if __name__ == "__main__":
    main()
