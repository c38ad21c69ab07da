"""What the parent should see, independent of Telegram: screens of text and buttons."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.callbacks import Action


@dataclass(frozen=True)
class Button:
    label: str
    action: Action | None = None
    url: str | None = None


@dataclass(frozen=True)
class Screen:
    """One message. `replace` asks to edit the message whose button was pressed."""

    text: str
    rows: tuple[tuple[Button, ...], ...] = ()
    replace: bool = False


@dataclass
class Reply:
    """Everything one update produces: screens in order and the button-press answer."""

    screens: list[Screen] = field(default_factory=list)
    toast: str | None = None  # answerCallbackQuery text
    alert: bool = False  # show the toast as a pop-up the parent must close
    # The session whose result these screens show: once they are delivered, the caller
    # tells the conversation (Conversation.result_seen), and the result is not shown again.
    result_of: str | None = None

    def add(self, screen: Screen) -> Reply:
        self.screens.append(screen)
        return self
