"""The command menus: what parents see, and what staff see after it in their own chats."""

from __future__ import annotations

PARENT_COMMANDS = (
    "start",
    "restart",
    "help",
    "privacy",
    "language",
    "subscribe",
    "stop",
    "deadlines",
    "mydata",
    "forget",
)
# Shown only in staff chats, after the parent commands (descriptions: staff.commands.*).
STAFF_COMMANDS = ("broadcast", "broadcasts", "tips", "stats", "export", "cancel", "whoami")


def command_list(commands: tuple[str, ...]) -> str:
    """'/broadcast, /tips, …' for a sentence that names them."""
    return ", ".join(f"/{c}" for c in commands)
