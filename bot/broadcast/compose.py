"""Staff composing and ready-made tips, independent of Telegram: an event in, a StaffReply out.

The compose machine (flows/broadcast.py) decides which step may happen; this class checks
what staff sent, counts recipients, renders the exact preview, and queues the broadcast
(bot/broadcast.py) only on Confirm. Words come from content/<lang>/staff.yaml.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import secrets
from collections.abc import Iterator
from dataclasses import replace

from bot.broadcast.drafts import ComposeDrafts
from bot.broadcast.message import (
    EVERYONE,
    BroadcastError,
    Problem,
    audiences,
    escape_would_fix,
    escaped,
    message_problem,
    render_text,
    split_audience,
)
from bot.broadcast.queue import Broadcasts
from bot.broadcast.staff import Incoming, Op, Preview, Staff, StaffReply
from bot.broadcast.tips import next_unsent_tip, tip_texts, tip_title
from bot.callbacks import Action, Kind
from bot.config import Settings
from bot.content import MESSAGE_LIMIT, Content, LanguagePack
from bot.html import visible_text
from bot.storage import Storage
from bot.views import Button, Reply, Screen
from flows.compose import (
    AWAITING_AUDIENCE,
    AWAITING_CONTENT,
    AWAITING_TIME,
    PREVIEWING,
    Compose,
    Draft,
)
from flows.machine import NotAllowed
from flows.schedule import ScheduleError, local_time, next_drip_time, parse_when, release_time

log = logging.getLogger(__name__)

TIPS_PAGE_BUDGET = MESSAGE_LIMIT - 300  # room for the page header and the weekly-tip line


class StaffCompose:
    """/broadcast, /tips and their buttons for one bot; safe to share between staff."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        content: Content,
        broadcasts: Broadcasts,
        drafts: ComposeDrafts,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.content = content
        self.broadcasts = broadcasts
        self.drafts = drafts
        self.machine = Compose()
        self.tz = settings.tz

    # --- entry points ----------------------------------------------------------------------

    def start_message(self, staff: Staff) -> StaffReply:
        """/broadcast: a new draft that waits for the text or photo."""
        reply = self._replacing_note(staff)
        draft = self.machine.new_message(_new_id())
        self.drafts.save(staff.user_id, draft)
        reply.tail.append(self._content_prompt(staff, draft))
        return reply

    def cancel(self, staff: Staff) -> StaffReply:
        """/cancel: leave the draft at whatever step it is; nothing is sent."""
        pack = self._pack(staff)
        found = self.drafts.get(staff.user_id)
        self.drafts.delete(staff.user_id)
        key = "compose.cancelled" if found is not None else "compose.nothing_to_cancel"
        return StaffReply(tail=[Screen(pack.t(f"staff.{key}"))])

    def message(self, staff: Staff, incoming: Incoming) -> StaffReply:
        """Something staff sent while a draft is open: the text, a time, or a nudge."""
        pack = self._pack(staff)
        draft = self._load(staff)
        if draft is None:
            self.drafts.delete(staff.user_id)
            return StaffReply(tail=[Screen(pack.t("staff.compose.expired"))])
        if draft.state == AWAITING_CONTENT:
            return self._take_content(staff, draft, incoming)
        if draft.state == AWAITING_TIME:
            return self._take_time(staff, draft, incoming.raw)
        reply = StaffReply(tail=[Screen(pack.t("staff.compose.use_buttons"))])
        return reply.merge(self._show_step(staff, draft))

    def edited(self, staff: Staff) -> StaffReply:
        """Staff edited a message while composing: the draft keeps what was sent first."""
        return StaffReply(tail=[Screen(self._pack(staff).t("staff.compose.edited"))])

    def press(self, staff: Staff, action: Action) -> StaffReply:
        """A staff button (already decoded, verified, and from a staff member)."""
        if action.kind == Kind.TIPS_LIST:
            return self._press_tips(staff, action)
        pack = self._pack(staff)
        found = self.drafts.get(staff.user_id)
        if found is None or found[0].draft_id != action.arg(0):
            return StaffReply(head=Reply(toast=pack.t("staff.compose.stale"), alert=True))
        draft, expired = found
        if expired:
            self.drafts.delete(staff.user_id)
            return StaffReply(tail=[Screen(pack.t("staff.compose.expired"))])
        op, arg = action.arg(1), action.arg(2)
        before = replace(draft)
        try:
            reply = self._apply(staff, draft, op, arg)
        except NotAllowed:
            return StaffReply(head=Reply(toast=pack.t("staff.compose.stale"), alert=True))
        if before.state == PREVIEWING and op in (Op.ASK_TIME, Op.EDIT_TEXT, Op.EDIT_AUDIENCE):
            # The summary that was pressed stays readable, without buttons that now mislead.
            reply.head.screens.insert(0, Screen(self._summary_text(staff, before), replace=True))
        return reply

    def tips(self, staff: Staff, page: int = 0, *, replace: bool = False) -> StaffReply:
        """/tips: one page of ready-made tips, each in every language, with Send and Schedule."""
        pack = self._pack(staff)
        reference = self.content.pack(None).tips
        if not reference:
            return StaffReply(tail=[Screen(pack.t("staff.tips.none"))])
        pages = list(self._tip_pages(staff))
        page = min(max(page, 0), len(pages) - 1)
        sent = self.broadcasts.sent_tip_ids()
        drip_next = next_unsent_tip(self.content, sent) if self._drip_on else None
        parts = [
            pack.t("staff.tips.header", page=page + 1, pages=len(pages)),
            self._drip_line(pack),
        ]
        rows: list[tuple[Button, ...]] = []
        for number in pages[page]:
            tip_id = reference[number - 1].id
            parts.append(self._tip_block(staff, number, tip_id, sent, drip_next))
            rows.append(
                (
                    Button(pack.t("staff.tips.send", n=number), _tips(Op.TIP_NOW, tip_id)),
                    Button(pack.t("staff.tips.schedule", n=number), _tips(Op.TIP_SCHEDULE, tip_id)),
                )
            )
        nav = []
        if page > 0:
            nav.append(Button(pack.t("staff.tips.previous"), _tips(Op.TIPS_PAGE, str(page - 1))))
        if page < len(pages) - 1:
            nav.append(Button(pack.t("staff.tips.next"), _tips(Op.TIPS_PAGE, str(page + 1))))
        if nav:
            rows.append(tuple(nav))
        screen = Screen("\n\n".join(parts), tuple(rows), replace=replace)
        return StaffReply(
            head=Reply(screens=[screen]) if replace else Reply(), tail=[] if replace else [screen]
        )

    # --- compose steps ---------------------------------------------------------------------

    def _apply(self, staff: Staff, draft: Draft, op: str, arg: str) -> StaffReply:
        pack = self._pack(staff)
        if op == Op.AUDIENCE:
            if arg not in self._audiences():
                return StaffReply(
                    head=Reply(toast=pack.t("staff.audience.unknown"), alert=True),
                    tail=[self._audience_prompt(staff, draft)]
                    if draft.state == AWAITING_AUDIENCE
                    else [],
                )
            self.machine.choose_audience(draft, arg)
            self.drafts.save(staff.user_id, draft)
            chosen = (
                f"{pack.t('staff.audience.prompt')}\n\n✓ <b>{self._audience_label(pack, arg)}</b>"
            )
            reply = StaffReply(head=Reply(screens=[Screen(chosen, replace=True)]))
            return reply.merge(self._preview(staff, draft))
        if op in (Op.CONFIRM, Op.CONFIRM_IGNORING_QUIET):
            return self._confirm(staff, draft, ignore_quiet=op == Op.CONFIRM_IGNORING_QUIET)
        if op == Op.ESCAPE:
            return self._escape(staff, draft, arg)
        if op == Op.CANCEL:
            self.machine.cancel(draft)
            self.drafts.save(staff.user_id, draft)
            return StaffReply(
                head=Reply(screens=[Screen(pack.t("staff.compose.cancelled"), replace=True)])
            )
        step = {
            Op.ASK_TIME: self.machine.ask_time,
            Op.UNSCHEDULE: self.machine.clear_time,
            Op.EDIT_TEXT: self.machine.edit_content,
            Op.EDIT_AUDIENCE: self.machine.edit_audience,
        }.get(op)
        if step is None:
            raise NotAllowed(f"unknown compose operation {op!r}")
        step(draft)
        self.drafts.save(staff.user_id, draft)
        return self._show_step(staff, draft)

    def _take_content(self, staff: Staff, draft: Draft, incoming: Incoming) -> StaffReply:
        pack = self._pack(staff)
        if not incoming.is_text_or_photo:
            return StaffReply(tail=[Screen(pack.t("staff.compose.not_text_or_photo"))])
        # The queue runs the same check, so what passes here passes at Confirm.
        problem = message_problem({"*": incoming.html}, incoming.photo, self.content)
        if problem is not None:
            return self._refuse_content(staff, draft, incoming, problem)
        self.machine.write(draft, text=incoming.html, photo=incoming.photo)
        self.drafts.save(staff.user_id, draft)
        reply = StaffReply()
        if incoming.formatting_removed:
            reply.tail.append(Screen(pack.t("staff.compose.formatting_removed")))
        return reply.merge(self._show_step(staff, draft))

    def _refuse_content(
        self, staff: Staff, draft: Draft, incoming: Incoming, problem: Problem
    ) -> StaffReply:
        """Why the text cannot go; offer "Escape it for me" when escaping alone would fix it."""
        pack = self._pack(staff)
        words = problem_words(pack, problem)
        if problem.code != "bad_html":
            return StaffReply(tail=[Screen(words)])
        if not escape_would_fix({"*": incoming.html}, incoming.photo, self.content):
            return StaffReply(tail=[Screen(f"{words}\n\n{pack.t('staff.compose.fix_and_resend')}")])
        # The draft keeps what was sent so the button can escape it. It waits for content,
        # and only `write` (typed or escaped) leads on from there, replacing both fields.
        draft.text, draft.photo = incoming.html, incoming.photo
        self.drafts.save(staff.user_id, draft)
        button = Button(
            pack.t("staff.buttons.escape"), _compose(draft, Op.ESCAPE, _digest(incoming.html))
        )
        words = f"{words}\n\n{pack.t('staff.compose.escape_offer')}"
        return StaffReply(tail=[Screen(words, ((button,),))])

    def _escape(self, staff: Staff, draft: Draft, digest: str) -> StaffReply:
        """Escape it for me: the refused text, escaped, taken exactly as if it had been typed."""
        if draft.state != AWAITING_CONTENT or draft.text is None or _digest(draft.text) != digest:
            raise NotAllowed("no refused text to escape")  # an older refusal's button
        pack = self._pack(staff)
        refused = {"*": draft.text}
        problem = message_problem(refused, draft.photo, self.content)
        if problem is None or not escape_would_fix(refused, draft.photo, self.content):
            raise NotAllowed("escaping does not apply")  # content changed since the refusal
        # The refusal stays readable, without the button, and says what was chosen.
        pressed = f"{problem_words(pack, problem)}\n\n✓ <b>{pack.t('staff.buttons.escape')}</b>"
        reply = StaffReply(head=Reply(screens=[Screen(pressed, replace=True)]))
        incoming = Incoming(html=escaped(refused)["*"], photo=draft.photo)
        return reply.merge(self._take_content(staff, draft, incoming))

    def _take_time(self, staff: Staff, draft: Draft, raw: str) -> StaffReply:
        pack = self._pack(staff)
        now = local_time(self.storage.clock(), self.tz)
        try:
            when = parse_when(raw, now, self.tz)
        except ScheduleError as exc:
            words = pack.t(f"staff.when.{exc.code}", example=self._example_time(now))
            return StaffReply(tail=[Screen(words)])
        self.machine.set_time(draft, when.timestamp())
        self.drafts.save(staff.user_id, draft)
        return self._show_step(staff, draft)

    def _confirm(self, staff: Staff, draft: Draft, *, ignore_quiet: bool) -> StaffReply:
        pack = self._pack(staff)
        self.machine.confirm(draft, ignore_quiet=ignore_quiet)  # NotAllowed unless previewing
        now = local_time(self.storage.clock(), self.tz)
        release = release_time(
            now, self._send_at(draft), self.settings.quiet_hours, ignore_quiet=ignore_quiet
        )
        assert draft.audience is not None
        try:
            # Queued and draft deleted together or not at all: a Confirm processed again after
            # a crash finds no draft, so it can never queue a second broadcast.
            with self.storage.db.atomic():
                broadcast_id = self.broadcasts.queue(
                    audience=draft.audience,
                    texts=self._texts(draft),
                    photo=draft.photo,
                    tip_id=draft.tip_id,
                    created_by=staff.user_id,
                    origin="tip" if draft.is_tip else "telegram",
                    not_before=release.timestamp() if release is not None else None,
                )
                self.drafts.save(staff.user_id, draft)  # confirmed: deleted
        except BroadcastError as exc:
            # The stored draft is still at the preview: staff can fix it or cancel.
            return StaffReply(
                tail=[Screen(pack.t("staff.done.failed", reason=problem_words(pack, exc.problem)))]
            )
        count = self.broadcasts.count_recipients(draft.audience)
        log.info(
            "broadcast %d queued by staff (origin=%s)",
            broadcast_id,
            "tip" if draft.is_tip else "telegram",
        )
        if release is None:
            words = pack.t("staff.done.queued", id=broadcast_id, count=count)
        else:
            words = pack.t(
                "staff.done.scheduled", id=broadcast_id, count=count, time=self._when(pack, release)
            )
        return StaffReply(
            head=Reply(screens=[Screen(words, replace=True)]), status_for=broadcast_id
        )

    # --- screens ---------------------------------------------------------------------------

    def _show_step(self, staff: Staff, draft: Draft) -> StaffReply:
        """The screen for the step the draft is at now."""
        if draft.state == AWAITING_CONTENT:
            return StaffReply(tail=[self._content_prompt(staff, draft)])
        if draft.state == AWAITING_AUDIENCE:
            return StaffReply(tail=[self._audience_prompt(staff, draft)])
        if draft.state == AWAITING_TIME:
            return StaffReply(tail=[self._time_prompt(staff, draft)])
        return self._preview(staff, draft)

    def _content_prompt(self, staff: Staff, draft: Draft) -> Screen:
        pack = self._pack(staff)
        return Screen(pack.t("staff.compose.start"), ((self._cancel_button(pack, draft),),))

    def _audience_prompt(self, staff: Staff, draft: Draft) -> Screen:
        pack = self._pack(staff)
        rows = []
        for audience in self._audiences():
            count = self.broadcasts.count_recipients(audience)
            label = f"{self._audience_label(pack, audience)} · {count}"
            rows.append((Button(label, _compose(draft, Op.AUDIENCE, audience)),))
        rows.append((self._cancel_button(pack, draft),))
        return Screen(pack.t("staff.audience.prompt"), tuple(rows))

    def _time_prompt(self, staff: Staff, draft: Draft) -> Screen:
        pack = self._pack(staff)
        now = local_time(self.storage.clock(), self.tz)
        words = pack.t(
            "staff.when.prompt",
            zone=self.settings.timezone,
            example=self._example_time(now),
            quiet=self._quiet_text(),
        )
        rows = (
            (Button(pack.t("staff.buttons.unschedule"), _compose(draft, Op.UNSCHEDULE)),),
            (self._cancel_button(pack, draft),),
        )
        return Screen(words, rows)

    def _preview(self, staff: Staff, draft: Draft) -> StaffReply:
        """Each language's message exactly as recipients get it, then the summary to confirm."""
        reply = StaffReply()
        texts = self._texts(draft)
        for code in self._preview_languages(draft):
            reply.previews.append(Preview(self.broadcasts_text(texts, code), draft.photo))
        reply.tail.append(
            Screen(self._summary_text(staff, draft), self._summary_buttons(staff, draft))
        )
        return reply

    def _summary_text(self, staff: Staff, draft: Draft) -> str:
        pack = self._pack(staff)
        assert draft.audience is not None
        names = [self.content.languages[c].name for c in self._preview_languages(draft)]
        count = self.broadcasts.count_recipients(draft.audience)
        lines = [pack.t("staff.preview.above", languages=", ".join(names))]
        if draft.tip_id is not None:
            title = tip_title((tip_texts(self.content, draft.tip_id) or {}).get(pack.code, ""))
            lines.append(pack.t("staff.preview.tip", title=title or draft.tip_id))
        lines.append(
            pack.t(
                "staff.preview.audience",
                audience=self._audience_label(pack, draft.audience),
                count=count,
            )
        )
        if count == 0:
            lines.append(pack.t("staff.preview.nobody"))
        lines.append(self._when_line(pack, draft))
        lines.append(pack.t("staff.preview.zone", zone=self.settings.timezone))
        return "\n\n".join(lines)

    def _when_line(self, pack: LanguagePack, draft: Draft) -> str:
        now = local_time(self.storage.clock(), self.tz)
        asked = self._send_at(draft)
        release = release_time(now, asked, self.settings.quiet_hours)
        quiet = self._quiet_text()
        if asked is None or asked <= now:
            if release is None:
                return pack.t("staff.preview.when_now")
            return pack.t("staff.preview.when_quiet", quiet=quiet, time=self._when(pack, release))
        if release == asked:
            return pack.t("staff.preview.when_scheduled", time=self._when(pack, asked))
        assert release is not None
        return pack.t(
            "staff.preview.when_scheduled_quiet",
            asked=self._when(pack, asked),
            quiet=quiet,
            time=self._when(pack, release),
        )

    def _summary_buttons(self, staff: Staff, draft: Draft) -> tuple[tuple[Button, ...], ...]:
        pack = self._pack(staff)
        now = local_time(self.storage.clock(), self.tz)
        asked = self._send_at(draft)
        if asked is not None and asked <= now:
            asked = None
        release = release_time(now, asked, self.settings.quiet_hours)
        rows: list[tuple[Button, ...]] = []
        if release is None:
            rows.append((Button(pack.t("staff.buttons.confirm"), _compose(draft, Op.CONFIRM)),))
        else:
            label = pack.t("staff.buttons.confirm_later", time=self._short(pack, release))
            rows.append((Button(label, _compose(draft, Op.CONFIRM)),))
        if release is not None and release != asked:
            # Quiet hours moved it: offer to keep the time asked for.
            if asked is None:
                label = pack.t("staff.buttons.send_now_anyway")
            else:
                label = pack.t("staff.buttons.send_at_anyway", time=self._short(pack, asked))
            rows.append((Button(label, _compose(draft, Op.CONFIRM_IGNORING_QUIET)),))
        if asked is None:
            rows.append((Button(pack.t("staff.buttons.schedule"), _compose(draft, Op.ASK_TIME)),))
        else:
            rows.append(
                (
                    Button(pack.t("staff.buttons.change_time"), _compose(draft, Op.ASK_TIME)),
                    Button(pack.t("staff.buttons.unschedule"), _compose(draft, Op.UNSCHEDULE)),
                )
            )
        edits = [Button(pack.t("staff.buttons.edit_audience"), _compose(draft, Op.EDIT_AUDIENCE))]
        if not draft.is_tip:
            edits.insert(
                0, Button(pack.t("staff.buttons.edit_text"), _compose(draft, Op.EDIT_TEXT))
            )
        rows.append(tuple(edits))
        rows.append((self._cancel_button(pack, draft),))
        return tuple(rows)

    def _cancel_button(self, pack: LanguagePack, draft: Draft) -> Button:
        return Button(pack.t("staff.buttons.cancel"), _compose(draft, Op.CANCEL))

    # --- tips --------------------------------------------------------------------------------

    def _press_tips(self, staff: Staff, action: Action) -> StaffReply:
        op, arg = action.arg(0), action.arg(1)
        pack = self._pack(staff)
        if op == Op.TIPS_PAGE:
            page = int(arg) if arg.isdigit() else 0
            return self.tips(staff, page, replace=True)
        if op not in (Op.TIP_NOW, Op.TIP_SCHEDULE):
            return StaffReply(head=Reply(toast=pack.t("staff.compose.stale"), alert=True))
        if tip_texts(self.content, arg) is None:
            reply = StaffReply(tail=[Screen(pack.t("staff.tips.unknown"))])
            return reply.merge(self.tips(staff))
        reply = self._replacing_note(staff)
        draft = self.machine.new_tip(_new_id(), arg, schedule=op == Op.TIP_SCHEDULE)
        self.drafts.save(staff.user_id, draft)
        return reply.merge(self._show_step(staff, draft))

    def _tip_pages(self, staff: Staff) -> Iterator[list[int]]:
        """Tip numbers (1-based) grouped so that no page exceeds Telegram's message limit."""
        page: list[int] = []
        size = 0
        sent: set[str] = set()
        for number, tip in enumerate(self.content.pack(None).tips, 1):
            block = len(visible_text(self._tip_block(staff, number, tip.id, sent, None))) + 2
            if page and size + block > TIPS_PAGE_BUDGET:
                yield page
                page, size = [], 0
            page.append(number)
            size += block
        if page:
            yield page

    def _tip_block(
        self, staff: Staff, number: int, tip_id: str, sent: set[str], drip_next: str | None
    ) -> str:
        pack = self._pack(staff)
        texts = tip_texts(self.content, tip_id) or {}
        title = tip_title(texts.get(pack.code, "")) or tip_id
        status = pack.t("staff.tips.sent") if tip_id in sent else pack.t("staff.tips.not_sent")
        if tip_id == drip_next:
            status += f" · {pack.t('staff.tips.drip_next')}"
        lines = [f"<b>{number}. {title}</b>\n<i>{status}</i>"]
        tip = next(t for t in self.content.pack(None).tips if t.id == tip_id)
        if tip.interests:
            labels = ", ".join(self._interest_label(pack, i) for i in tip.interests)
            lines[0] += "\n" + pack.t("staff.tips.for", interests=labels)
        for code, text in texts.items():
            block = f"<i>{self.content.languages[code].name}</i>\n{text}"
            if len(visible_text(block)) > TIPS_PAGE_BUDGET // 2:
                block = _shortened(block, TIPS_PAGE_BUDGET // 2)
            lines.append(block)
        return "\n\n".join(lines)

    @property
    def _drip_on(self) -> bool:
        return self.settings.drip_weekday is not None

    def _drip_line(self, pack: LanguagePack) -> str:
        if self.settings.drip_weekday is None:
            return pack.t("staff.tips.drip_off")
        now = local_time(self.storage.clock(), self.tz)
        upcoming = next_drip_time(now, self.settings.drip_weekday, self.settings.drip_hour)
        return pack.t(
            "staff.tips.drip_on",
            weekday=pack.t("staff.weekdays").split(",")[self.settings.drip_weekday],
            hour=f"{self.settings.drip_hour:02d}",
            next=self._when(pack, upcoming),
        )

    # --- checks and words ------------------------------------------------------------------

    def broadcasts_text(self, texts: dict[str, str], lang: str) -> str:
        """The message one recipient gets, rendered exactly as the delivery engine does."""
        return render_text(texts, lang, self.content)

    def _texts(self, draft: Draft) -> dict[str, str]:
        if draft.tip_id is not None:
            texts = tip_texts(self.content, draft.tip_id)
            if texts is None:
                raise NotAllowed(f"tip {draft.tip_id!r} is no longer in the content")
            return texts
        return {"*": draft.text or ""}

    def _audiences(self) -> list[str]:
        return audiences(self.content.languages)

    def _audience_label(self, pack: LanguagePack, audience: str) -> str:
        kind, value = split_audience(audience)
        if kind == "lang" and value in self.content.languages:
            return pack.t("staff.audience.lang", language=self.content.languages[value].name)
        if kind == "interest":
            return self._interest_label(pack, value)
        return pack.t("staff.audience.all")

    def _interest_label(self, pack: LanguagePack, interest: str) -> str:
        labels = pack.ui.get("staff", {}).get("interests", {})
        return str(labels.get(interest, interest))

    def _preview_languages(self, draft: Draft) -> list[str]:
        kind, value = split_audience(draft.audience or EVERYONE)
        if kind == "lang" and value in self.content.languages:
            return [value]
        return list(self.content.languages)

    def _send_at(self, draft: Draft) -> dt.datetime | None:
        return local_time(draft.send_at, self.tz) if draft.send_at is not None else None

    def _quiet_text(self) -> str:
        return str(self.settings.quiet_hours).replace("-", "–")

    def _when(self, pack: LanguagePack, moment: dt.datetime) -> str:
        local = moment.astimezone(self.tz)
        return pack.t(
            "staff.date_format",
            weekday=pack.t("staff.weekdays").split(",")[local.weekday()],
            day=local.day,
            month=pack.t("staff.months").split(",")[local.month - 1],
            year=local.year,
            time=f"{local:%H:%M}",
        )

    def _short(self, pack: LanguagePack, moment: dt.datetime) -> str:
        local = moment.astimezone(self.tz)
        weekday = pack.t("staff.weekdays").split(",")[local.weekday()]
        return pack.t("staff.short_format", weekday=weekday, time=f"{local:%H:%M}")

    def _example_time(self, now: dt.datetime) -> str:
        tomorrow = now.date() + dt.timedelta(days=1)
        return f"{tomorrow.isoformat()} 09:30"

    def _pack(self, staff: Staff) -> LanguagePack:
        return self.content.pack(staff.lang)

    def _load(self, staff: Staff) -> Draft | None:
        found = self.drafts.get(staff.user_id)
        if found is None or found[1]:
            return None
        return found[0]

    def _replacing_note(self, staff: Staff) -> StaffReply:
        """A new draft replaces an unfinished one: say so, so nothing vanishes silently."""
        reply = StaffReply()
        if self._load(staff) is not None:
            reply.tail.append(Screen(self._pack(staff).t("staff.compose.replaced")))
        return reply


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _new_id() -> str:
    return secrets.token_hex(3)


def _digest(text: str) -> str:
    """A short name for a refused text, for its "Escape it for me" button."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _compose(draft: Draft, op: str, arg: str | None = None) -> Action:
    args = (draft.draft_id, op) if arg is None else (draft.draft_id, op, arg)
    return Action(Kind.COMPOSE, args)


def _tips(op: str, arg: str) -> Action:
    return Action(Kind.TIPS_LIST, (op, arg))


def _shortened(block: str, limit: int) -> str:
    """A block too long for a page, as plain text cut at `limit` characters."""
    plain = visible_text(block)
    cut = plain[: limit - 1].rsplit(" ", 1)[0] + "…"
    return cut.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def problem_words(pack: LanguagePack, problem: Problem) -> str:
    """A broadcast problem in the staff member's words (staff.compose.<code>).

    Formatting Telegram would refuse has one sentence per reason:
    staff.compose.bad_html.<html>, with the spot quoted as typed.
    """
    values = {k: _escape(v) if isinstance(v, str) else v for k, v in problem.values.items()}
    key = f"staff.compose.{problem.code}"
    if problem.code == "bad_html":
        key += f".{problem.values.get('html')}"
    return pack.t(key, **values)
