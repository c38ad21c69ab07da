"""`iep-bot chat`: the same conversation in a terminal, no Telegram and no token needed."""

from __future__ import annotations

from collections.abc import Callable

from bot.callbacks import Action
from bot.html import plain
from bot.parent.conversation import Chat, Conversation
from bot.views import Reply

COMMANDS = (
    "/start",
    "/restart",
    "/help",
    "/privacy",
    "/language",
    "/deadlines",
    "/mydata",
    "/forget",
    "/quit",
)


class TerminalChat:
    """Prints screens with numbered buttons and turns typed numbers back into presses."""

    def __init__(
        self,
        conversation: Conversation,
        chat: Chat,
        *,
        read: Callable[[str], str] = input,
        write: Callable[[str], None] = print,
    ) -> None:
        self.conversation = conversation
        self.chat = chat
        self.read, self.write = read, write
        self.choices: list[Action] = []

    def show(self, reply: Reply) -> None:
        if reply.toast:
            self.write(f"\n[{plain(reply.toast)}]")
        # A letter's files come after its first screens, as in Telegram; here, their names.
        documents_at = getattr(reply, "documents_at", 0)
        for index, screen in enumerate(reply.screens):
            if index == documents_at:
                self._list_documents(reply)
            self.write("\n" + plain(screen.text))
            if screen.rows:
                self.choices = []
                for row in screen.rows:
                    for button in row:
                        if button.url:
                            self.write(f"   -> {button.label}: {button.url}")
                        elif button.action is not None:
                            self.choices.append(button.action)
                            self.write(f"  {len(self.choices)}. {plain(button.label)}")
        if documents_at >= len(reply.screens):
            self._list_documents(reply)
        if reply.result_of is not None:
            self.conversation.result_seen(self.chat, reply.result_of)

    def _list_documents(self, reply: Reply) -> None:
        for document in getattr(reply, "documents", ()):
            self.write(f"\n[file] {document.filename} ({len(document.data):,} bytes)")

    def handle(self, line: str) -> bool:
        """Act on one typed line; False when the parent wants to quit."""
        line = line.strip()
        conv, chat = self.conversation, self.chat
        if line in ("/quit", "/exit", "q"):
            return False
        if line.startswith("/start"):
            self.show(conv.start(chat, "terminal"))
        elif line == "/restart":
            self.show(conv.restart(chat))
        elif line == "/help":
            self.show(conv.help(chat))
        elif line == "/privacy":
            self.show(conv.privacy(chat))
        elif line == "/language":
            self.show(conv.languages(chat))
        elif line == "/deadlines":
            self.show(conv.deadlines_command(chat))
        elif line == "/mydata":
            self.show(conv.my_data(chat))
        elif line == "/forget":
            self.show(conv.forget(chat))
        elif line.startswith("/"):
            self.show(conv.unknown_command(chat))
        elif line.isdigit() and 1 <= int(line) <= len(self.choices):
            self.show(conv.press(chat, self.choices[int(line) - 1]))
        else:
            self.show(conv.text(chat, line))
        return True

    def run(self, first_line: str = "/start") -> None:
        self.write(f"Type the number of a button. Commands: {', '.join(COMMANDS)}")
        self.handle(first_line)
        while True:
            try:
                line = self.read("\n> ")
            except (EOFError, KeyboardInterrupt):
                self.write("")
                return
            if not self.handle(line):
                return
