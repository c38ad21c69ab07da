"""The Telegram bot, its storage and its command line."""
