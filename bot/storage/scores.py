"""Tutoring scores in SQLite (tables from store.m002_tutor_scores): rounds shown, answers given, stats.

A round is one case shown to a chat; an attempt is one learner's answer to it. Scores are per
learner (the channel's author id), so in a group chat each member has their own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .store import Store, now


@dataclass
class Stats:
    done: int  # rounds the learner answered
    first: int  # of which their first answer was right
    missed: list[tuple[str, int]]  # (answer code, times missed on the first answer), most first


class Scores:
    def __init__(self, store: Store):
        self.store = store
        self.db = store.db

    def new_round(
        self, channel: str, chat_id: str, consult_id: int, case_id: str, case_title: str, ruleset_version: str
    ) -> int:
        return (
            self.db["tutor_rounds"]
            .insert(
                {
                    "channel": channel,
                    "chat_id": chat_id,
                    "consult_id": consult_id,
                    "case_id": case_id,
                    "case_title": case_title,
                    "ruleset_version": ruleset_version,
                    "presented_at": now(),
                }
            )
            .last_pk
        )

    def set_question(self, round_id: int, answer: str, options: list[str], concluded: list[str]) -> None:
        self.db["tutor_rounds"].update(
            round_id, {"answer_code": answer, "options": json.dumps(options), "concluded": json.dumps(concluded)}
        )

    def finish_round(self, round_id: int, outcome: str) -> None:
        self.db["tutor_rounds"].update(round_id, {"finished_at": now(), "outcome": outcome})

    def add_attempt(self, round_id: int, channel: str, learner: str, chosen: str, text: str, correct: bool) -> int:
        return (
            self.db["tutor_attempts"]
            .insert(
                {
                    "round_id": round_id,
                    "channel": channel,
                    "learner": learner,
                    "chosen_code": chosen,
                    "text": text,
                    "correct": int(correct),
                    "at": now(),
                }
            )
            .last_pk
        )

    def attempts(self, round_id: int, channel: str | None = None, learner: str | None = None) -> list[dict]:
        where, args = "round_id = ?", [round_id]
        if learner is not None:
            where, args = where + " and channel = ? and learner = ?", args + [channel, learner]
        return list(self.db["tutor_attempts"].rows_where(where, args, order_by="id"))

    def cases_done(self, channel: str, learner: str) -> set[str]:
        rows = self.db.execute(
            "select distinct r.case_id from tutor_attempts a join tutor_rounds r on r.id = a.round_id "
            "where a.channel = ? and a.learner = ?",
            [channel, learner],
        ).fetchall()
        return {r[0] for r in rows}

    def stats(self, channel: str, learner: str, top: int = 3) -> Stats:
        firsts = """
            select r.id as round_id, r.answer_code, a.correct from tutor_attempts a
            join tutor_rounds r on r.id = a.round_id
            where a.channel = ? and a.learner = ? and a.id = (
                select min(b.id) from tutor_attempts b
                where b.round_id = a.round_id and b.channel = a.channel and b.learner = a.learner)"""
        done, first = self.db.execute(
            f"select count(*), coalesce(sum(correct), 0) from ({firsts})", [channel, learner]
        ).fetchone()
        missed = self.db.execute(
            f"select answer_code, count(*) as n from ({firsts}) where correct = 0 "
            "group by answer_code order by n desc, answer_code limit ?",
            [channel, learner, top],
        ).fetchall()
        return Stats(done, first, [(code, n) for code, n in missed])
