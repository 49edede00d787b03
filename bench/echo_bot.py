"""A bare python-telegram-bot echo bot: the transport floor that bench/e2e.py compares against.

A plain Application with long polling and one MessageHandler that sends the text back. It reads
the same variables as `neuroladder run` (TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL with the token
appended) and stops on SIGINT/SIGTERM.

    TELEGRAM_BOT_TOKEN=123456:... TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT/bot python bench/echo_bot.py
"""

from __future__ import annotations

import logging
import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the message's text back to its chat."""
    await update.effective_chat.send_message(update.message.text)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    builder = Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"])
    if os.environ.get("TELEGRAM_API_BASE_URL"):
        builder = builder.base_url(os.environ["TELEGRAM_API_BASE_URL"])
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=["message"], timeout=float(os.environ.get("ECHO_POLL_TIMEOUT", "10")))


if __name__ == "__main__":
    main()
