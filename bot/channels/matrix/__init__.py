"""The Matrix channel: end-to-end encrypted rooms, device trust, rendering."""
