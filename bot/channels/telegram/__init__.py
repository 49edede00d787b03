"""The Telegram channel: polling or webhook, the crash-safe inbox, rendering."""
