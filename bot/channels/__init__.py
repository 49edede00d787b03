"""Transports: the terminal, Telegram and Matrix. Receive, render, send; no clinical words."""
