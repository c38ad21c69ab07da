"""The Telegram adapter: with the command line, the only code that imports python-telegram-bot."""
