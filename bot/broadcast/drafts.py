"""Staff drafts on disk, so a restart in the middle of composing loses nothing.

Keyed by the staff member's Telegram user id: these rows are about staff, never parents.
The `text` column holds the draft's texts and choices as JSON ({"v": 2, "texts": {lang: html},
"queue": [...], "others_get": ..., ...}); a draft stored before texts were kept per language
holds plain HTML there, and is reported as `outdated` (dropped, never guessed at).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.storage import Storage
from flows.compose import OPEN_STATES, Draft

DRAFT_TTL_SECONDS = 24 * 3600  # an untouched draft this old is discarded, not sent
FORMAT = 2  # the version of the JSON in the `text` column
EXPIRED = "expired"
OUTDATED = "outdated"


@dataclass(frozen=True)
class Stored:
    """A staff member's stored draft, and why it cannot be used (EXPIRED, OUTDATED) or None."""

    draft: Draft
    problem: str | None = None


class ComposeDrafts:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.table = storage.db.table("compose_drafts")

    def get(self, user_id: int) -> Stored | None:
        """The staff member's open draft and whether it can still be used, or None."""
        rows = list(self.table.rows_where("user_id = ?", [user_id]))
        if not rows:
            return None
        row = rows[0]
        draft = _draft(row)
        if draft is None:
            return Stored(Draft(draft_id=str(row["draft_id"])), OUTDATED)
        if self.storage.clock() - row["updated_at"] > DRAFT_TTL_SECONDS:
            return Stored(draft, EXPIRED)
        return Stored(draft)

    def has_draft(self, user_id: int) -> bool:
        query = "SELECT 1 FROM compose_drafts WHERE user_id = ? LIMIT 1"
        return self.storage.db.execute(query, [user_id]).fetchone() is not None

    def save(self, user_id: int, draft: Draft) -> None:
        """Keep an open draft; a finished one (confirmed or cancelled) is deleted instead."""
        if not draft.is_open:
            self.delete(user_id)
            return
        parts = {
            "v": FORMAT,
            "texts": draft.texts,
            "queue": draft.queue,
            "others_get": draft.others_get,
            "refused": draft.refused,
            "refused_photo": draft.refused_photo,
        }
        row = {
            "user_id": user_id,
            "draft_id": draft.draft_id,
            "state": draft.state,
            "text": json.dumps(parts, ensure_ascii=False),
            "photo": draft.photo,
            "tip_id": draft.tip_id,
            "audience": draft.audience,
            "send_at": draft.send_at,
            "ignore_quiet": int(draft.ignore_quiet),
            "updated_at": self.storage.clock(),
        }
        self.table.upsert(row, pk="user_id")

    def delete(self, user_id: int) -> None:
        self.storage.db.execute("DELETE FROM compose_drafts WHERE user_id = ?", [user_id])


def _draft(row: dict[str, Any]) -> Draft | None:
    """The draft a row holds, or None when it was stored in an earlier format."""
    try:
        parts = json.loads(row["text"] or "")
    except ValueError:
        return None
    if not isinstance(parts, dict) or parts.get("v") != FORMAT or row["state"] not in OPEN_STATES:
        return None
    return Draft(
        draft_id=str(row["draft_id"]),
        state=str(row["state"]),
        texts={str(k): str(v) for k, v in (parts.get("texts") or {}).items()},
        queue=[str(lang) for lang in parts.get("queue") or []],
        others_get=parts.get("others_get"),
        photo=row["photo"],
        tip_id=row["tip_id"],
        audience=row["audience"],
        send_at=row["send_at"],
        ignore_quiet=bool(row["ignore_quiet"]),
        refused=parts.get("refused"),
        refused_photo=parts.get("refused_photo"),
    )
