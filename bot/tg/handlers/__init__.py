"""Telegram handlers, one module per feature; bot/app.py wires them in order."""
