"""A team intake in one Telegram group under the default flood limits: reply latency per turn.

    python bench/group.py                   # 30 turns, two clinicians, one group, default limits
    python bench/group.py --turns 20 --show # ... and the chat as a member's phone shows it at the end
    python bench/group.py --chat private    # the same intake in a private chat

The Bot API stand-in (tests/botapi_standin.py) runs in this process on 127.0.0.1; the real
`neuroladder run` runs as a subprocess against it exactly as an operator starts it (a temporary
SQLite file, the group on NEUROLADDER_ALLOWED_CHATS, no flood-limit settings: Telegram's 30
messages/s overall and 20 messages/min per group, enforced by the bot's own AIORateLimiter).

Two clinicians take turns answering one consultation as fast as the replies come: `/start`, then
under each question a button press (the first of PREFERRED that is offered, else the first
button that answers) or, for a question without buttons, a typed reply to the question message
(as privacy mode requires in a group). Reported per turn: the latency from the update being
available to getUpdates to the stand-in receiving the bot's first message for it, and the Bot
API calls of the turn. Calls are counted in two kinds: chat calls (messages, edits, chat
actions, files: what Telegram's per-group budget counts) and answerCallbackQuery (Telegram
requires one for every button press; it puts nothing into the chat and is not limited per
group, only by the 30/s overall limit).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the stand-in lives with the tests

from botapi_standin import BOT_USERNAME, BotAPIStandIn  # noqa: E402

GROUP = -100777
CLINICIANS = (501, 502)
PREFERRED = ["Yes", "No", "Diffuse", "No diabetes", "Normal", "None"]
TYPED = [
    (r"at the highest dose", "4 weeks"),
    (r"weeks|how long", "12 weeks"),
    (r"gabapentin.*dose", "600 mg tid"),
    (r"pregabalin.*dose", "150 mg bd"),
    (r"dose", "60 mg od"),
    (r"\bage\b|old", "72"),
    (r"creatinine clearance", "45"),
    (r"creatinine|crcl|egfr|kidney|renal", "eGFR 50"),
    (r"hba1c|a1c", "6.1%"),
    (r"b12", "300 pmol/L"),
]  # a plausible typed answer to the question a pattern finds


def typed_answer(question: str) -> str:
    last = [line for line in question.splitlines() if line.strip()][-1].lower()
    for pattern, answer in TYPED:
        if re.search(pattern, last):
            return answer
    return "unknown"


def bot_env(api: BotAPIStandIn, chat: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEUROLADDER_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=api.base_url,
        PYTHONUNBUFFERED="1",
        NO_PROXY="127.0.0.1",
        no_proxy="127.0.0.1",
    )
    env["NEUROLADDER_ALLOWED_CHATS" if chat < 0 else "NEUROLADDER_ALLOWED_USERS"] = ",".join(
        [str(chat)] if chat < 0 else map(str, CLINICIANS)
    )
    return env


def bot_command(db: Path) -> list[str]:
    script = Path(sys.executable).with_name("neuroladder")
    entry = [str(script)] if script.exists() else [sys.executable, "-m", "neuroladder.bot.cli.main"]
    return entry + ["run", "--db", str(db), "--poll-timeout", "10"]


def first_reply(api: BotAPIStandIn, chat: int, after_call: int) -> dict | None:
    """The first message the bot sent into the chat after call number `after_call`."""
    with api.lock:
        for call in api.calls[after_call:]:
            if (
                call["method"] in ("sendMessage", "sendPhoto", "sendDocument")
                and not call["error"]
                and call["params"].get("chat_id") == chat
            ):
                return call
    return None


def play(api: BotAPIStandIn, chat: int, turns: int, timeout: float) -> list[dict]:
    """The intake, turn by turn; each answer is given as soon as the previous reply arrived."""
    rows: list[dict] = []
    question: dict | None = None
    for n in range(turns):
        user = CLINICIANS[n % 2] if chat < 0 else chat
        with api.lock:
            calls_before = len(api.calls)
        labels = [b for b in api.buttons(question) if b != "Why?"] if question else []
        pushed_at = time.monotonic()
        if question is None:
            api.send_text(chat, f"/start@{BOT_USERNAME}" if chat < 0 else "/start", user_id=user)
            how = "/start"
        elif labels:
            label = next((p for p in PREFERRED if p in labels), labels[0])
            api.press(chat, question["message_id"], label, user_id=user)
            how = f"pressed {label}"
        else:
            text = typed_answer(question["text"])
            api.send_text(chat, text, user_id=user, reply_to=question["message_id"] if chat < 0 else None)
            how = f"typed {text!r}"
        call = api.wait_until(
            lambda before=calls_before: first_reply(api, chat, before), timeout, f"the reply to turn {n + 1}"
        )
        rows.append(
            {"turn": n + 1, "user": user, "how": how, "latency": call["at"] - pushed_at, "first_call": calls_before}
        )
        question = api.last_bot_message(chat)
    return rows


def count_calls(api: BotAPIStandIn, chat: int, rows: list[dict]) -> None:
    """Each turn's calls: from its first call up to the next turn's (the last turn: to the end)."""
    with api.lock:
        calls = list(api.calls)
    bounds = [r["first_call"] for r in rows] + [len(calls)]
    for row, start, end in zip(rows, bounds, bounds[1:], strict=False):
        mine = [c for c in calls[start:end] if c["method"] != "getUpdates"]
        row["chat_calls"] = sum(
            1 for c in mine if c["method"] != "answerCallbackQuery" and c["params"].get("chat_id") == chat
        )
        row["answers"] = sum(1 for c in mine if c["method"] == "answerCallbackQuery")
        row["methods"] = ",".join(c["method"] for c in mine)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--turns", type=int, default=30)
    ap.add_argument("--chat", choices=["group", "private"], default="group")
    ap.add_argument(
        "--settle", type=float, default=8.0, help="seconds to wait after the last reply for the turn's trailing calls"
    )
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds allowed for one reply")
    ap.add_argument("--show", action="store_true", help="print the chat as a member's phone shows it at the end")
    args = ap.parse_args()
    chat = GROUP if args.chat == "group" else CLINICIANS[0]
    with tempfile.TemporaryDirectory() as tmp, BotAPIStandIn() as api:
        api.chat(chat, "supergroup" if chat < 0 else "private")
        log_path = Path(tmp) / "bot.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                bot_command(Path(tmp) / "group.db"),
                env=bot_env(api, chat),
                cwd=tmp,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                api.wait_until(lambda: api.polls > 0 or proc.poll() is not None, 30, "the bot to poll")
                if proc.poll() is not None:
                    raise SystemExit(f"the bot exited at start:\n{log_path.read_text(errors='replace')[-2000:]}")
                rows = play(api, chat, args.turns, args.timeout)
                time.sleep(args.settle)
                count_calls(api, chat, rows)
            finally:
                proc.terminate()
                proc.wait(30)
        errors = api.errors()
        view = api.phone_view(chat) if args.show else ""
    print(
        f"{args.chat} chat, {len(CLINICIANS) if chat < 0 else 1} clinician(s), {args.turns} turns, default "
        f"flood limits (30/s overall, 20/min per group), Bot API stand-in on 127.0.0.1"
    )
    print(f"{'turn':>4} {'by':>5} {'answer':<24} {'latency (s)':>11} {'chat calls':>10} {'press answers':>13}  calls")
    for r in rows:
        print(
            f"{r['turn']:>4} {r['user']:>5} {r['how'][:24]:<24} {r['latency']:>11.2f} {r['chat_calls']:>10} "
            f"{r['answers']:>13}  {r['methods']}"
        )
    lat = [r["latency"] for r in rows]
    immediate = next((i for i, x in enumerate(lat) if x > 1.0), len(lat))
    print(
        f"turns answered at once (< 1 s) before the first wait: {immediate}; longest wait {max(lat):.2f} s "
        f"(turn {lat.index(max(lat)) + 1})"
    )
    chat_calls = sum(r["chat_calls"] for r in rows)
    presses = sum(1 for r in rows if r["how"].startswith("pressed"))
    print(
        f"chat calls per turn {chat_calls / len(rows):.2f} ({chat_calls} for {len(rows)} turns); "
        f"answerCallbackQuery {sum(r['answers'] for r in rows)} for {presses} presses; API errors {len(errors)}"
    )
    if view:
        print("\nWhat a member's phone shows at the end:\n" + view)
    return 0


if __name__ == "__main__":
    sys.exit(main())
