"""The objects every handler needs, built once and kept in application.bot_data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.broadcast.queue import Broadcasts
from bot.callbacks import CallbackCodec
from bot.config import Settings
from bot.content import Content
from bot.parent.conversation import Chat, Conversation
from bot.storage import Pseudonymizer, Storage
from flows.screening import Screening

KEY = "services"


@dataclass
class Services:
    settings: Settings
    storage: Storage
    content: Content
    screening: Screening
    conversation: Conversation
    codec: CallbackCodec
    pseudonymize: Pseudonymizer
    broadcasts: Broadcasts

    @classmethod
    def build(cls, settings: Settings, storage: Storage, content: Content) -> Services:
        screening = Screening(content.spec)
        return cls(
            settings=settings,
            storage=storage,
            content=content,
            screening=screening,
            conversation=Conversation(content, storage, settings, screening),
            codec=CallbackCodec(settings.pseudonym_key),
            pseudonymize=Pseudonymizer(settings.pseudonym_key),
            broadcasts=Broadcasts(storage, content),
        )

    def chat(self, chat_id: int, language_code: str | None) -> Chat:
        """The conversation's view of a Telegram chat: a keyed hash, never the raw id."""
        return Chat(key=self.pseudonymize(chat_id), language_hint=language_code, address=chat_id)


def services(context: Any) -> Services:
    """The Services of the application handling this update."""
    found: Services = context.application.bot_data[KEY]
    return found
