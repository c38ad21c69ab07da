"""Staff drafts on disk, so a restart in the middle of composing loses nothing.

Keyed by the staff member's Telegram user id: these rows are about staff, never parents.
"""

from __future__ import annotations

from dataclasses import asdict

from bot.storage import Storage
from flows.compose import Draft

DRAFT_TTL_SECONDS = 24 * 3600  # an untouched draft this old is discarded, not sent
_FIELDS = tuple(Draft.__dataclass_fields__)


class ComposeDrafts:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.table = storage.db.table("compose_drafts")

    def get(self, user_id: int) -> tuple[Draft, bool] | None:
        """The staff member's open draft and whether it expired, or None."""
        rows = list(self.table.rows_where("user_id = ?", [user_id]))
        if not rows:
            return None
        row = rows[0]
        draft = Draft(**{name: row[name] for name in _FIELDS})
        draft.ignore_quiet = bool(draft.ignore_quiet)
        expired = self.storage.clock() - row["updated_at"] > DRAFT_TTL_SECONDS
        return draft, expired

    def has_draft(self, user_id: int) -> bool:
        query = "SELECT 1 FROM compose_drafts WHERE user_id = ? LIMIT 1"
        return self.storage.db.execute(query, [user_id]).fetchone() is not None

    def save(self, user_id: int, draft: Draft) -> None:
        """Keep an open draft; a finished one (confirmed or cancelled) is deleted instead."""
        if not draft.is_open:
            self.delete(user_id)
            return
        row = {"user_id": user_id, **asdict(draft), "updated_at": self.storage.clock()}
        row["ignore_quiet"] = int(draft.ignore_quiet)
        self.table.upsert(row, pk="user_id")

    def delete(self, user_id: int) -> None:
        self.storage.db.execute("DELETE FROM compose_drafts WHERE user_id = ?", [user_id])
