"""An edited message belongs to the consult of the message it edits: after /restart, editing
patient A's message must not put A's facts into patient B's consult."""

from __future__ import annotations

pytest_plugins = ["telegram_fixtures"]

from botapi_standin import BotAPIStandIn
from telegram_helpers import query, running_bot, tg_settings

from neuroladder.bot.service import Service


def facts(db: str, chat: str) -> dict[str, str]:
    return dict(
        query(
            db,
            "select f.name, f.value from facts f join consults c on c.id = f.consult_id "
            "where c.chat_id = ? and c.status = 'open' and f.retracted_at is null",
            [chat],
        )
    )


async def test_an_edit_after_restart_is_not_applied_to_the_new_consult(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        a = standin.send_text(111, "pregabalin 150 mg bd for 3 months, no help")
        await standin.until(lambda: len(standin.bot_texts(111)) >= 1, 20, "patient A noted")
        standin.send_text(111, "/restart")
        await standin.until(lambda: len(standin.bot_texts(111)) >= 2, 20, "the restart")
        standin.send_text(111, "duloxetine 60 mg for 8 weeks, partial")
        await standin.until(lambda: len(standin.bot_texts(111)) >= 3, 20, "patient B noted")
        standin.edit_text(111, a["message_id"], "pregabalin 300 mg bd for 3 months, no help")
        await standin.until(lambda: len(standin.bot_texts(111)) >= 4, 20, "the answer to the edit")
        assert "earlier consultation, which is closed" in standin.bot_texts(111)[-1]
        b_facts = facts(tg_db, "111")
        assert not any(name.startswith("trial.pregabalin") for name in b_facts), b_facts
        assert any(name.startswith("trial.duloxetine") for name in b_facts)
        # an edit of a message of the open consult is still applied as a correction
        b = standin.send_text(111, "age 70")
        await standin.until(lambda: len(standin.bot_texts(111)) >= 5, 20, "the age noted")
        standin.edit_text(111, b["message_id"], "age 71")
        await standin.until(lambda: facts(tg_db, "111").get("age") == "71", 20, "the corrected age")
    edited = query(
        tg_db,
        "select t.text from turns t join consults c on c.id = t.consult_id "
        "where c.status = 'closed' and t.direction = 'in' order by t.id",
    )
    assert edited[-1][0].startswith("pregabalin 300")  # kept with patient A's closed record
