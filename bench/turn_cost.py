"""In-process cost of one turn: parse + rules + SQLite commit + reply rendering.

Runs N consultations of about 15 turns each (the case transcripts in conversations/cases, topped
up with typical follow-ups) through the real Service on a real SQLite file, and prints p50/p99
per turn and the share of each stage.

    python bench/turn_cost.py --consults 1000
    python bench/turn_cost.py --consults 1000 --clock cpu --long 300   # ... then 300 one-note consultations

Also printed: the first turns (each opens a consultation) and the later ones apart. `--long N`
adds, after the N consultations above and counted apart from them, N consultations of two turns
(an age, then one long note stating ~30 facts, as clinicians type between patients), and prints
that long turn's figures.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tomllib
from collections import defaultdict
from importlib import resources
from pathlib import Path

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store
from neuroladder.bot.text import parse as parse_mod
from neuroladder.bot.views.reply import Reply
from neuroladder.rules import engine as engine_mod

FOLLOW_UPS = [
    "no benefit",
    "yes",
    "no",
    "35",
    "normal",
    "no red flags",
    "/summary",
    "unknown",
    "actually gabapentin was 2400 mg/day",
    "/why",
    "diabetes controlled",
    "b12 normal",
    "spep normal",
    "68 yo",
    "combination tried",
]


# One message stating a whole history: the turn that writes the most facts.
LONG_NOTE = (
    "55M, focal pain right foot, gabapentin 800 tds x 12 wks incl 4 at max, no help. dulox 60 od x 10 wks nil. "
    "gaba + dulox together 8 wks nil. crcl 90, a1c 5.6, b12 normal, spep normal, no red flags"
)


def percentiles(times: list[float]) -> str:
    times = sorted(times)
    n = len(times)
    return (
        f"p50 {times[n // 2] * 1000:.2f} ms, p99 {times[int(n * 0.99)] * 1000:.2f} ms, "
        f"mean {statistics.mean(times) * 1000:.2f} ms ({n} turns)"
    )


def scripts() -> list[list[str]]:
    out = []
    for path in sorted(resources.files("neuroladder.conversations").joinpath("cases").iterdir()):
        if path.name.endswith(".toml"):
            turns = tomllib.loads(path.read_text())["turns"]
            out.append((turns + FOLLOW_UPS)[:15])
    return out or [FOLLOW_UPS]


class Stopwatch:
    """Wraps functions so the time spent inside each stage adds up per turn."""

    def __init__(self, clock=time.perf_counter):
        self.spent = defaultdict(float)
        self.clock = clock

    def wrap(self, owner, name: str, stage: str):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            start = self.clock()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[stage] += self.clock() - start

        setattr(owner, name, timed)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--consults", type=int, default=1000)
    ap.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: this thread's CPU time per turn, which other load on the machine disturbs less",
    )
    ap.add_argument("--long", type=int, default=0, metavar="N", help="then N one-note consultations, apart")
    args = ap.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.thread_time
    watch = Stopwatch(clock)
    watch.wrap(parse_mod.Parser, "parse", "parse")
    watch.wrap(engine_mod.LadderRules, "evaluate", "rules")
    watch.wrap(Reply, "html", "render")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        service = Service(store)
        per_turn, stage_totals, checkpoints = [], defaultdict(float), []
        first_turns, later_turns, long_turns = [], [], []
        runs = scripts()
        started = time.perf_counter()
        for i in range(args.consults):
            chat = f"bench-{i}"
            # A different age per consultation, though the cases restate the age in their first
            # turn: evaluations are cached per consultation (bot/dialogue/consult.py), so none is
            # reused across them whatever the facts.
            for k, text in enumerate([f"{18 + i % 90} yo", *runs[i % len(runs)][:14]]):
                watch.spent.clear()
                t0 = clock()
                replies = service.handle("bench", chat, text)
                for r in replies:
                    r.html()
                elapsed = clock() - t0
                per_turn.append(elapsed)
                (later_turns if k else first_turns).append(elapsed)
                # What a channel does once the reply is out (pipeline.chat_worker's idle step):
                # measured apart, since no clinician waits for it.
                t1 = clock()
                if store.checkpoint_when_idle():
                    checkpoints.append(clock() - t1)
                for stage, spent in watch.spent.items():
                    stage_totals[stage] += spent
        wall = time.perf_counter() - started
        for i in range(args.long):
            service.handle("bench", f"long-{i}", f"{18 + i % 90} yo")
            store.checkpoint_when_idle()
            t0 = clock()
            for r in service.handle("bench", f"long-{i}", LONG_NOTE):
                r.html()
            long_turns.append(clock() - t0)
            store.checkpoint_when_idle()
    per_turn.sort()
    n = len(per_turn)
    total = sum(per_turn)
    other = total - sum(stage_totals.values())
    print(f"turns: {n} over {args.consults} consultations in {wall:.1f} s")
    print(
        f"per turn ({args.clock} clock): p50 {per_turn[n // 2] * 1000:.2f} ms, p99 {per_turn[int(n * 0.99)] * 1000:.2f} ms, "
        f"mean {statistics.mean(per_turn) * 1000:.2f} ms"
    )
    for stage, spent in sorted(stage_totals.items(), key=lambda kv: -kv[1]):
        print(f"  {stage:<8} {spent / total * 100:5.1f}%")
    print(f"  {'other':<8} {other / total * 100:5.1f}%  (SQLite reads/writes and commit, intake, dialogue)")
    print(f"first turns (each opens a consultation): {percentiles(first_turns)}")
    print(f"later turns: {percentiles(later_turns)}")
    if long_turns:
        print(f"one-note turns (--long, apart from the above): {percentiles(long_turns)}")
    if checkpoints:
        print(
            f"WAL checkpoints between turns (after the reply, as the channels do): {len(checkpoints)}, "
            f"mean {statistics.mean(checkpoints) * 1000:.2f} ms, max {max(checkpoints) * 1000:.2f} ms"
        )


if __name__ == "__main__":
    main()
