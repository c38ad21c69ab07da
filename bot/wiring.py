"""The one place where the bot's parts are built: settings, content, storage and the services.

`iep-bot run`, `iep-bot chat` and every CLI command open what they need through the functions
here; the Telegram adapter (bot/tg/app.py) adds only what needs a Bot (the sender, the
engine) and reaches everything else through `Services`. No Telegram here.

Each function imports the parts it builds when it runs: importing this module costs nothing,
so `iep-bot --help` (and every command that opens no database) starts without them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.broadcast.compose import StaffCompose
    from bot.broadcast.drafts import ComposeDrafts
    from bot.broadcast.queue import Broadcasts
    from bot.callbacks import CallbackCodec
    from bot.config import Settings
    from bot.content import Content
    from bot.parent.conversation import Chat, Conversation
    from bot.storage import Pseudonymizer, Storage
    from flows.screening import Screening

log = logging.getLogger(__name__)


class SetupProblem(Exception):
    """A setting, content or database problem, said in one line (never a traceback)."""


def open_settings(*, require_token: bool = False) -> Settings:
    """The settings from the environment and .env, or one line on what is wrong."""
    from bot.config import SettingsError, load_settings

    try:
        return load_settings(require_token=require_token)
    except SettingsError as exc:
        raise SetupProblem(f"Setting problem: {exc}") from None


def open_content(settings: Settings) -> Content:
    """The content files, validated, or one line naming the file and key at fault."""
    from bot.content import load_content
    from bot.followup.timelines import load_timelines
    from bot.letters.book import load_letters
    from flows.spec import ContentError

    try:
        content = load_content(settings.content_dir)
        load_letters(content)  # a broken letter template stops start-up here, in one line
        load_timelines(content)  # and so does a timeline rule without its citation
    except ContentError as exc:
        raise SetupProblem(f"Content problem: {exc}") from None
    return content


def open_storage(settings: Settings, *, patience: float | None = None) -> Storage:
    """The database, its schema brought up to date; waits while another program holds a
    lock on it (`patience` seconds, by default bot/busy.py's STARTUP_PATIENCE), then gives
    one line. A folder, a junk or damaged file, no permission, a full disk: one line too."""
    from bot.busy import STARTUP_PATIENCE, DatabaseBusy, wait_for_database
    from bot.db_errors import is_storage_error, storage_problem
    from bot.storage import Storage

    if patience is None:
        patience = STARTUP_PATIENCE

    def attempt() -> Storage:
        # Short tries, so the wait is measured here and can be announced; afterwards each
        # statement waits up to 5 s (the command line) or less (the running bot).
        path = settings.database_path
        new = str(path) != ":memory:" and not path.exists()
        storage = Storage(path, busy_timeout=min(1.0, patience), timezone=settings.timezone)
        try:
            applied = storage.migrate()
        except BaseException:
            storage.close()
            raise
        storage.wait_at_most(5.0)
        if new:
            # Said plainly: a volume that was not mounted looks exactly like this.
            storage.notes.append(
                f"created a new, empty database at {path} (expected data? check the volume)"
            )
        elif applied:
            from bot.migrations import describe

            storage.notes.append(f"database upgraded: {'; '.join(describe(applied))}")
        return storage

    def waiting() -> None:
        log.warning("the database is locked by another program; waiting up to %.0f s", patience)

    try:
        return wait_for_database(attempt, patience=patience, on_wait=waiting)
    except DatabaseBusy:
        raise SetupProblem(
            f"Database problem: {settings.database_path} stayed locked by another program for"
            f" {patience:.0f} s (another iep-bot, a backup?). Stop it, then try again."
        ) from None
    except Exception as exc:
        if not is_storage_error(exc):
            raise
        raise SetupProblem(storage_problem(exc, settings.database_path)) from None


@dataclass
class Services:
    """Everything a handler, a job or a command works with, built once per process."""

    settings: Settings
    storage: Storage
    content: Content
    screening: Screening
    conversation: Conversation
    codec: CallbackCodec
    pseudonymize: Pseudonymizer
    broadcasts: Broadcasts
    drafts: ComposeDrafts
    staff_compose: StaffCompose
    # The language a staff member's app showed when they last wrote (by user id), for
    # messages no update asked for (the weekly-tip note). In memory only, like the hint.
    staff_language_hints: dict[int, str] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, storage: Storage, content: Content) -> Services:
        from bot.broadcast.compose import StaffCompose
        from bot.broadcast.drafts import ComposeDrafts
        from bot.broadcast.queue import Broadcasts
        from bot.callbacks import CallbackCodec
        from bot.parent.conversation import Conversation
        from bot.storage import Pseudonymizer
        from flows.screening import Screening

        screening = Screening(content.spec)
        broadcasts = Broadcasts(storage, content)
        drafts = ComposeDrafts(storage)
        return cls(
            settings=settings,
            storage=storage,
            content=content,
            screening=screening,
            conversation=Conversation(content, storage, settings, screening),
            codec=CallbackCodec(settings.pseudonym_key),
            pseudonymize=Pseudonymizer(settings.pseudonym_key),
            broadcasts=broadcasts,
            drafts=drafts,
            staff_compose=StaffCompose(settings, storage, content, broadcasts, drafts),
        )

    @classmethod
    def open(cls, *, require_token: bool = False) -> Services:
        """Settings, content and storage from the environment, and the services over them."""
        settings = open_settings(require_token=require_token)
        content = open_content(settings)
        return cls.build(settings, open_storage(settings), content)

    def chat(self, chat_id: int, language_code: str | None) -> Chat:
        """The conversation's view of a Telegram chat: a keyed hash, never the raw id."""
        from bot.parent.conversation import Chat

        return Chat(key=self.pseudonymize(chat_id), language_hint=language_code, address=chat_id)

    def is_staff(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.staff_ids

    def language_of(self, chat: Chat) -> str:
        """The chat's language: its choice, else its app's language, else the default."""
        return self.conversation.language_of(chat)

    def staff_language(self, staff_id: int) -> str:
        """A staff member's language for a message they did not ask for (the weekly tip)."""
        return self.language_of(self.chat(staff_id, self.staff_language_hints.get(staff_id)))
