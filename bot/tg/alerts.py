"""Errors reach staff in Telegram: one message per kind of error an hour, nothing of a parent.

To ALERT_CHAT_ID when set (a staff group, say), else to every staff member's own chat. A
failed alert is a log line, never another alert.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Literal

from bot.alerts import AlertGate
from bot.content import REFERENCE_LANGUAGE
from bot.delivery import Outgoing, Priority, Sender
from bot.logs import where
from bot.wiring import Services

log = logging.getLogger(__name__)
During = Literal["update", "job", "broadcasts", "notices"]


class StaffAlerts:
    def __init__(self, services: Services, sender: Sender, *, gate: AlertGate | None = None):
        self.services = services
        self.sender = sender
        self.gate = gate or AlertGate()
        self._sending: set[asyncio.Task[None]] = set()

    @property
    def recipients(self) -> list[int]:
        settings = self.services.settings
        if settings.alert_chat_id is not None:
            return [settings.alert_chat_id]
        return sorted(settings.staff_ids)

    def report(self, error: BaseException, during: During) -> None:
        """Alert staff about this error if its kind is due; never waits, never raises."""
        kind = f"{type(error).__name__} at {where(error)}"
        count = self.gate.admit(kind)
        if count is None or not self.recipients:
            return
        task = asyncio.get_running_loop().create_task(self._send(kind, during, count))
        self._sending.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._sending.discard)

    async def _send(self, kind: str, during: During, count: int) -> None:
        for chat_id in self.recipients:
            pack = self.services.content.pack(self._language(chat_id))
            repeats = pack.t("staff.alert.repeats", count=count) if count > 1 else None
            text = pack.t(
                "staff.alert.error",
                during=pack.t(f"staff.alert.during.{during}"),
                kind=html.escape(kind),
                repeats=repeats or pack.t("staff.alert.first"),
            )
            try:
                delivery = await self.sender.send(Outgoing(chat_id, text), Priority.NOTICE)
            except Exception as exc:  # the error may be Telegram itself being unreachable
                log.warning("error alert not sent: %s", type(exc).__name__)
                continue
            if not delivery.ok:
                log.warning("error alert not sent: %s", delivery.error)

    def _language(self, chat_id: int) -> str:
        if chat_id in self.services.settings.staff_ids:
            return self.services.staff_language(chat_id)
        return REFERENCE_LANGUAGE
