"""Facts, findings and the consult note as channel-neutral replies (wording comes from data)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from neuroladder.bot.text.parse import CONVERSATIONS
from neuroladder.rules.data import Knowledge, read_toml
from neuroladder.rules.engine import Finding
from neuroladder.rules.facts import other_units
from neuroladder.rules.ranking import always_whole

from .reply import Choice, Reply

if TYPE_CHECKING:  # the intake's questions are shown and read here, not decided: no import at run time
    from neuroladder.bot.dialogue.intake import Question

SEVERITY_MARK = {"critical": "‼", "warning": "⚠", "info": "ℹ"}


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


class Renderer:
    def __init__(self, knowledge: Knowledge):
        self.k = knowledge
        intake = read_toml(CONVERSATIONS, "intake.toml")
        self.display = intake["display"]
        self.range_names = intake["range_names"]
        self.order = intake["display_order"]
        self.texts = read_toml(CONVERSATIONS, "texts.toml")

    # -- facts ------------------------------------------------------------------------------
    def _show(self, key: str, value: Any) -> str:
        spec = self.display[key]
        if isinstance(spec, dict):
            return spec.get(value, str(value))
        if isinstance(value, list):  # the drugs of a combination
            value = " + ".join(self.k.agent_label(a) for a in value)
        return spec.format(value=_num(value), **other_units(key, value, self.k))

    def describe(self, facts: dict[str, Any]) -> list[str]:
        """Facts in plain words, one phrase per subject, in a stable order."""
        out: list[str] = []
        trials: dict[str, dict[str, Any]] = {}
        for name, value in facts.items():
            if name.startswith("trial."):
                _, agent, attr = name.split(".", 2)
                trials.setdefault(agent, {})[attr] = value
        for agent in self.k.agents:
            if agent not in trials:
                continue
            t = trials[agent]
            bits = []
            if t.get("tried") in ("no", "unknown"):
                bits.append(self._show("tried", t["tried"]))
            for attr in self.order["trial"]:
                if attr == "current" and t.get(attr) == "no" and t.get("outcome") == "side_effects":
                    continue  # "stopped for side effects" says it already
                if attr in t:
                    bits.append(self._show(attr, t[attr]))
            if "adverse" in t:
                bits.append(self._adverse(t["adverse"]))
            if not bits:
                bits.append(self._show("tried", t.get("tried", "yes")))
            out.append(f"{self.k.agent_label(agent)} {', '.join(bits)}")
        for key in self.order["facts"]:
            if key in facts:
                out.append(self._show(key, facts[key]))
        flags = {name[5:]: value for name, value in facts.items() if name.startswith("flag.")}
        legacy_name = self.order["legacy_red_flags"]
        if legacy_name in facts:  # the legacy single answer
            legacy = facts[legacy_name]
            if legacy == "unknown":
                out.append(self.display["red_flags_unknown"])
            elif not legacy:
                out.append(self.display["red_flags_none"])
            else:
                out.append(
                    self.display[legacy_name].format(value=", ".join(self.k.red_flags.get(f, f) for f in legacy))
                )
        if flags and set(flags) == set(self.k.red_flags) and set(flags.values()) == {"no"}:
            out.append(self.display["red_flags_none"])
        elif flags and set(flags) == set(self.k.red_flags) and set(flags.values()) == {"unknown"}:
            out.append(self.display["red_flags_unknown"])
        else:
            for flag in self.k.red_flags:
                if flag in flags:
                    out.append(f"{self.k.red_flags[flag]}: {self._show('flag', flags[flag])}")
        return out

    def questioned(self, item: str) -> str:
        """A value the reader would not store ("crcl:900"), and why."""
        name, _, value = item.partition(":")
        if name == "number":
            return f"Please check: {value} is not a number I can read, so I have not stored anything from it."
        if name.startswith("trial."):
            _, agent, attr = name.split(".", 2)
            what = f"{self.k.agent_label(agent)} {attr.replace('_', ' ')}"
        else:
            what = self.range_names.get(name, name)
        return f"Please check: {what} {value} is outside the plausible range, so I have not stored it."

    def _adverse(self, effects: list[str]) -> str:
        if not effects:
            return self.display["adverse_none"]
        return self.display["adverse"].format(value=", ".join(self.k.adverse_effects[e] for e in effects))

    # -- findings ---------------------------------------------------------------------------
    def step_name(self, step: str) -> str:
        return self.k.steps.get(step, step)

    def finding_card(self, reply: Reply, finding: Finding, number: int | None = None) -> None:
        mark = SEVERITY_MARK.get(finding.severity, "")
        head = f"{number}. " if number is not None else ""
        reply.add(f"{head}{mark} ")
        reply.add(self.k.findings[finding.code]["summary"], "b")
        reply.add(f" ({self.step_name(finding.step)})", "i")
        reply.line()
        reply.add(finding.text)
        if number is not None:
            reply.add(f"  /how {number}", "i")
        reply.line()

    @staticmethod
    def cited(finding: Finding) -> str:
        return f"[{', '.join(finding.sources)}]" if finding.sources else ""

    def next_step(self, reply: Reply, finding: Finding | None, number: int | None, *, whole: bool) -> None:
        """The single next step, first: its card line, and its whole text when `whole`."""
        if finding is None:
            reply.add(self.texts["next_step"], "b").line(self.texts["no_next_step"])
            return
        mark = SEVERITY_MARK.get(finding.severity, "")
        reply.add(self.texts["next_step"], "b").add(f"{mark} ")
        reply.add(self.k.findings[finding.code]["summary"], "b")
        reply.add(f" ({self.step_name(finding.step)})", "i")
        if whole:
            reply.line().add(finding.text)
        else:
            reply.add(f" {self.cited(finding)}")
        if number is not None:
            reply.add(f"  /how {number}", "i")
        if whole or number is not None:
            reply.line()

    def finding_line(self, reply: Reply, finding: Finding, number: int | None = None) -> None:
        """One finding in one line: mark, summary, sources (the whole text is one /how away)."""
        head = f"{number}. " if number is not None else ""
        mark = SEVERITY_MARK.get(finding.severity, "")
        if always_whole(finding.code):  # its caveat is part of it
            reply.line(f"{head}{mark} {finding.text}")
            return
        reply.line(f"{head}{mark} {self.summary_of(finding)} {self.cited(finding)}".rstrip())

    def summary_of(self, finding: Finding) -> str:
        """The card's summary, with what it is about when several cards share it (the drug, the flag)."""
        subject = finding.params.get("agent") or finding.params.get("flag")
        summary = self.k.findings[finding.code]["summary"]
        return f"{summary} ({subject})" if subject else summary

    def finding_whole(self, reply: Reply, finding: Finding, lead: str = "") -> None:
        """A finding's whole text (never cut at its first sentence: the rest may be the caveat)."""
        mark = SEVERITY_MARK.get(finding.severity, "")
        reply.line(f"{lead}{mark} {finding.text}")

    def finding_gone(self, reply: Reply, finding: Finding) -> None:
        """A finding no longer concluded: its summary and what it was about (the drug, the flag)."""
        reply.line(f"- {self.summary_of(finding)}")

    def findings_list(self, findings: Iterable[Finding], reply: Reply | None = None) -> Reply:
        reply = reply or Reply()
        for i, f in enumerate(findings, 1):
            self.finding_card(reply, f, i)
        return reply

    def sources_used(self, findings: Iterable[Finding]) -> list[str]:
        order = list(self.k.sources)
        used = {s for f in findings for s in f.sources}
        return [s for s in order if s in used]

    def sources(self, keys: Iterable[str] | None = None) -> Reply:
        reply = Reply().line("Sources", "b")
        for key in keys or self.k.sources:
            src = self.k.sources[key]
            reply.add(f"[{key}] ", "b").line(src["name"])
            for claim in src["claims"]:
                reply.line(f"  - {claim}")
        reply.line()
        reply.line(
            "The seed text names only source 1; the other numbers are shown with the claims "
            "it rests on them, never with a title it does not give.",
            "i",
        )
        return reply

    # -- questions --------------------------------------------------------------------------
    def question(self, q: Question, reply: Reply | None = None) -> Reply:
        reply = reply or Reply()
        reply.line(q.ask, "b")
        reply.choices.extend(Choice(label, value) for label, value in q.choices)
        reply.choices.append(Choice("Why?", "/why", aside=True))
        reply.expects_answer = True
        return reply

    def why(self, q: Question) -> Reply:
        # Numbers in /why come from rules/thresholds.toml ({th[...]}), so they never go stale.
        return Reply().add("Why I ask: ", "b").line(q.why.format(th=self.k.thresholds))
