"""The weekly tip: at the configured weekday and hour, queue the next tip nobody got yet.

Idempotent per ISO week: the week is claimed in `drip_weeks` before anything is queued, so
a restart, a second check in the same hour, or two checks racing never send it twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.broadcast.queue import Broadcasts
from bot.broadcast.tips import next_unsent_tip, tip_texts
from bot.config import Settings
from bot.content import Content
from bot.storage import Storage
from flows.compose import EVERYONE
from flows.schedule import drip_due, local_time, release_time

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 300  # how often the job looks whether the drip is due


@dataclass(frozen=True)
class DripRun:
    """What this week's drip did: queued a tip (broadcast_id set), or found none left."""

    week: str
    tip_id: str | None = None
    broadcast_id: int | None = None


def run_weekly_tip(
    settings: Settings, storage: Storage, content: Content, broadcasts: Broadcasts
) -> DripRun | None:
    """Queue this week's tip if it is due and not done yet; None when there is nothing to do."""
    if settings.drip_weekday is None:
        return None
    now = local_time(storage.clock(), settings.tz)
    week = drip_due(now, settings.drip_weekday, settings.drip_hour)
    if week is None:
        return None
    claim = storage.db.execute(
        "INSERT OR IGNORE INTO drip_weeks (week, claimed_at) VALUES (?, ?)", [week, storage.clock()]
    )
    if claim.rowcount != 1:
        return None
    # A tip scheduled, on its way or sent (not cancelled) is not sent again.
    tip_id = next_unsent_tip(content, set(broadcasts.tip_states()))
    if tip_id is None:
        log.info("weekly tip %s skipped: every tip has been sent", week)
        return DripRun(week)
    texts = tip_texts(content, tip_id)
    assert texts is not None
    release = release_time(now, None, settings.quiet_hours)
    try:
        broadcast_id = broadcasts.queue(
            audience=EVERYONE,
            texts=texts,
            tip_id=tip_id,
            created_by=None,
            origin="drip",
            not_before=release.timestamp() if release is not None else None,
        )
    except Exception:
        # Give the week back so the next check can try again (within the same day).
        storage.db.execute("DELETE FROM drip_weeks WHERE week = ?", [week])
        raise
    storage.db.execute(
        "UPDATE drip_weeks SET tip_id = ?, broadcast_id = ? WHERE week = ?",
        [tip_id, broadcast_id, week],
    )
    log.info("weekly tip %s queued as broadcast %d", week, broadcast_id)
    return DripRun(week, tip_id, broadcast_id)
