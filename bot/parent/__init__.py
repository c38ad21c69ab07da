"""The parent side, free of Telegram: the screening conversation, its result, the tips opt-in."""
