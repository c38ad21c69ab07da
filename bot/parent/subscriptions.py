"""Parents asking for tips and stopping them: opt in, pick an interest (or skip), opt out."""

from __future__ import annotations

import logging

from bot.callbacks import Action, Kind
from bot.content import Content, LanguagePack
from bot.storage import INTERESTS, Storage
from bot.views import Button, Reply, Screen

log = logging.getLogger(__name__)


class Subscriptions:
    def __init__(self, storage: Storage, content: Content) -> None:
        self.storage = storage
        self.content = content

    def offer(self, chat_key: str, pack: LanguagePack) -> Reply:
        """The question "a tip every week or two?" (or a note that they already get tips)."""
        if self.storage.get_subscriber(chat_key) is not None:
            return Reply().add(Screen(pack.t("subscribe.already")))
        rows = (
            (
                Button(pack.t("subscribe.yes"), Action(Kind.TIPS_OFFER, ("yes",))),
                Button(pack.t("subscribe.no"), Action(Kind.TIPS_OFFER, ("no",))),
            ),
        )
        return Reply().add(Screen(pack.t("subscribe.offer"), rows))

    def answer_offer(
        self, chat_key: str, chat_id: int | None, pack: LanguagePack, choice: str
    ) -> Reply:
        if choice != "yes":
            return Reply().add(Screen(pack.t("subscribe.declined"), replace=True))
        if chat_id is None:
            return Reply().add(Screen(pack.t("subscribe.terminal_only"), replace=True))
        if not self.storage.add_subscriber(chat_key, chat_id, pack.code):
            return Reply().add(Screen(pack.t("subscribe.already"), replace=True))
        log.info("a parent subscribed to tips")
        rows = (
            *tuple(
                (Button(pack.t(f"subscribe.interests.{i}"), Action(Kind.TIPS_INTEREST, (i,))),)
                for i in INTERESTS
            ),
            (Button(pack.t("subscribe.skip"), Action(Kind.TIPS_INTEREST, ("skip",))),),
        )
        text = f"{pack.t('subscribe.joined')}\n\n{pack.t('subscribe.interest_prompt')}"
        return Reply().add(Screen(text, rows, replace=True))

    def pick_interest(self, chat_key: str, pack: LanguagePack, interest: str) -> Reply:
        chosen = interest if interest in INTERESTS else None
        if not self.storage.set_interest(chat_key, chosen):
            return Reply().add(Screen(pack.t("subscribe.not_subscribed"), replace=True))
        words = pack.t("subscribe.interest_saved") if chosen else pack.t("subscribe.joined")
        return Reply().add(Screen(words, replace=True))

    def stop(self, chat_key: str, chat_id: int | None, pack: LanguagePack) -> Reply:
        """/stop and /unsubscribe: answered at once; the raw chat id is deleted (found by the
        chat id too, so a subscription made under an earlier PSEUDONYM_KEY stops as well)."""
        if self.storage.remove_subscriber(chat_key, event="left", chat_id=chat_id):
            log.info("a parent unsubscribed from tips")
            return Reply().add(Screen(pack.t("subscribe.stopped")))
        return Reply().add(Screen(pack.t("subscribe.not_subscribed")))
