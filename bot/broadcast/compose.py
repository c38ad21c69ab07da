"""Staff composing and ready-made tips, independent of Telegram: an event in, a StaffReply out.

The compose machine (flows/compose.py) decides which step may happen; this class asks for a
text in each language the audience reads, checks what staff sent, counts recipients per
language, renders the exact preview of each, and queues the broadcast (queue.py) only on
Confirm. A language left without a text is skipped for its parents, unless staff chose to
send them another language's text after a warning with the count. Words come from
content/<lang>/staff.yaml.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import html
import logging
import secrets
from dataclasses import dataclass

from bot.broadcast.drafts import EXPIRED, ComposeDrafts, Stored
from bot.broadcast.labels import audience_label, interest_label
from bot.broadcast.message import (
    OTHERS,
    BroadcastError,
    Problem,
    audience_languages,
    audiences,
    escape_would_fix,
    escaped,
    message_problem,
    receiving,
    render_text,
)
from bot.broadcast.queue import TIP_PAUSED, TIP_SCHEDULED, TIP_SENDING, TIP_SENT, Broadcasts
from bot.broadcast.staff import Incoming, Op, Preview, Staff, StaffReply
from bot.broadcast.tips import next_unsent_tip, tip_pages, tip_texts, tip_title
from bot.broadcast.when import date_time, weekday_time
from bot.callbacks import Action, Kind
from bot.config import Settings
from bot.content import Content, LanguagePack
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

NUMBERS_PER_ROW = 4  # tip buttons on one keyboard row: wide enough for a thumb


@dataclass(frozen=True)
class Readers:
    """Who reads what in a draft's audience right now, and the texts that would be queued."""

    scope: list[str]  # the languages the audience may read, the reference language first
    counts: dict[str, int]  # parents in the audience per language, now
    texts: dict[str, str]  # what Confirm queues: own texts, and OTHERS if staff chose it

    @property
    def own(self) -> list[str]:
        """Languages with a text of their own."""
        return [lang for lang in self.scope if lang in self.texts]

    @property
    def missing(self) -> list[str]:
        """Languages some parents read that have no text of their own."""
        return [lang for lang in self.scope if self.counts[lang] and lang not in self.texts]

    @property
    def shown(self) -> list[str]:
        """The languages whose message the preview shows: every one that gets something."""
        others = OTHERS in self.texts
        return [lang for lang in self.scope if lang in self.texts or (others and self.counts[lang])]

    @property
    def total(self) -> int:
        """Parents who will get a message."""
        return sum(self.counts[lang] for lang in self.shown)


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
        """/broadcast: a new draft that first asks who should receive it."""
        reply = self._replacing_note(staff)
        draft = self.machine.new_message(_new_id())
        self.drafts.save(staff.user_id, draft)
        reply.tail.append(self._audience_prompt(staff, draft))
        return reply

    def cancel(self, staff: Staff) -> StaffReply:
        """/cancel: leave the draft at whatever step it is; nothing is sent."""
        pack = self._pack(staff)
        found = self.drafts.get(staff.user_id)
        self.drafts.delete(staff.user_id)
        key = "compose.cancelled" if found is not None else "compose.nothing_to_cancel"
        return StaffReply(tail=[Screen(pack.t(f"staff.{key}"))])

    def message(self, staff: Staff, incoming: Incoming) -> StaffReply:
        """Something staff sent while a draft is open: a text, a time, or a nudge."""
        pack = self._pack(staff)
        found = self.drafts.get(staff.user_id)
        if found is None or found.problem is not None:
            return self._drop(staff, found)
        draft = found.draft
        if draft.state == AWAITING_CONTENT:
            return self._take_content(staff, draft, incoming)
        if draft.state == AWAITING_TIME:
            return self._take_time(staff, draft, incoming.raw)
        key = "audience_first" if draft.state == AWAITING_AUDIENCE else "use_buttons"
        reply = StaffReply(tail=[Screen(pack.t(f"staff.compose.{key}"))])
        return reply.merge(self._show_step(staff, draft))

    def edited(self, staff: Staff) -> StaffReply:
        """Staff edited a message while composing: the draft keeps what was sent first."""
        return StaffReply(tail=[Screen(self._pack(staff).t("staff.compose.edited"))])

    def press(self, staff: Staff, action: Action) -> StaffReply:
        """A staff button (already decoded, verified, and from a staff member)."""
        if action.kind == Kind.TIPS_LIST:
            return self._press_tips(staff, action)
        found = self.drafts.get(staff.user_id)
        if found is None or found.draft.draft_id != action.arg(0):
            return _stale(self._pack(staff))
        if found.problem is not None:
            return self._drop(staff, found)
        draft = found.draft
        op, arg = action.arg(1), action.arg(2)
        before = copy.deepcopy(draft)
        try:
            reply = self._apply(staff, draft, op, arg)
        except NotAllowed:
            return _stale(self._pack(staff))
        if before.state == PREVIEWING and op in _LEAVING_THE_PREVIEW:
            # The summary that was pressed stays readable, without buttons that now mislead.
            reply.head.screens.insert(0, Screen(self._summary_text(staff, before), replace=True))
        return reply

    def tips(self, staff: Staff, page: int = 0, *, replace: bool = False) -> StaffReply:
        """/tips: a page of ready-made tips, a line each with its state, and a button each."""
        pack = self._pack(staff)
        reference = self.content.pack(None).tips
        if not reference:
            return StaffReply(tail=[Screen(pack.t("staff.tips.none"))])
        pages = tip_pages(len(reference))
        page = min(max(page, 0), len(pages) - 1)
        states = self.broadcasts.tip_states()
        drip_next = next_unsent_tip(self.content, set(states)) if self._drip_on else None
        lines = [
            pack.t("staff.tips.header", page=page + 1, pages=len(pages)),
            self._drip_line(pack),
            "",
        ]
        numbers: list[Button] = []
        for number in pages[page]:
            tip_id = reference[number - 1].id
            lines.append(self._tip_line(pack, number, tip_id, states, drip_next))
            numbers.append(Button(str(number), _tips(Op.TIP_NOW, tip_id)))
        # Paging first, right under the text; then the numbers, a few to a row.
        rows: list[tuple[Button, ...]] = []
        nav = []
        if page > 0:
            nav.append(Button(pack.t("staff.tips.previous"), _tips(Op.TIPS_PAGE, str(page - 1))))
        if page < len(pages) - 1:
            nav.append(Button(pack.t("staff.tips.next"), _tips(Op.TIPS_PAGE, str(page + 1))))
        if nav:
            rows.append(tuple(nav))
        rows.extend(_even_rows(numbers, NUMBERS_PER_ROW))
        screen = Screen("\n".join(lines), tuple(rows), replace=replace)
        return StaffReply(
            head=Reply(screens=[screen]) if replace else Reply(), tail=[] if replace else [screen]
        )

    # --- compose steps ---------------------------------------------------------------------

    def _apply(self, staff: Staff, draft: Draft, op: str, arg: str) -> StaffReply:
        pack = self._pack(staff)
        if op == Op.AUDIENCE:
            return self._choose_audience(staff, draft, arg)
        if op in (Op.CONFIRM, Op.CONFIRM_IGNORING_QUIET):
            if (arg or None) != draft.others_get:
                raise NotAllowed("pressed before the choice for the other languages changed")
            return self._confirm(staff, draft, ignore_quiet=op == Op.CONFIRM_IGNORING_QUIET)
        if op == Op.ESCAPE:
            return self._escape(staff, draft, arg)
        if op == Op.SKIP:
            return self._skip(staff, draft, arg)
        if op == Op.CANCEL:
            self.machine.cancel(draft)
            self.drafts.save(staff.user_id, draft)
            return StaffReply(
                head=Reply(screens=[Screen(pack.t("staff.compose.cancelled"), replace=True)])
            )
        if op == Op.EDIT_TEXT:
            if arg not in self._readers(draft).scope:
                raise NotAllowed(f"no language {arg!r} in this audience")
            self.machine.edit_content(draft, arg)
        elif op == Op.OTHERS_GET:
            self.machine.others_get(draft, arg)
        elif op == Op.LEAVE_OUT:
            self.machine.leave_out(draft)
        elif op == Op.ASK_TIME:
            self.machine.ask_time(draft)
        elif op == Op.UNSCHEDULE:
            self.machine.clear_time(draft)
        elif op == Op.EDIT_AUDIENCE:
            self.machine.edit_audience(draft)
        else:
            raise NotAllowed(f"unknown compose operation {op!r}")
        self.drafts.save(staff.user_id, draft)
        return self._show_step(staff, draft)

    def _choose_audience(self, staff: Staff, draft: Draft, audience: str) -> StaffReply:
        """The audience: then the text of each language it reads, or the preview (a tip)."""
        pack = self._pack(staff)
        if audience not in self._audiences():
            return StaffReply(
                head=Reply(toast=pack.t("staff.audience.unknown"), alert=True),
                tail=[self._audience_prompt(staff, draft)]
                if draft.state == AWAITING_AUDIENCE
                else [],
            )
        pressed = self._audience_prompt(staff, draft).text
        scope = audience_languages(audience, self.content.languages)
        counts = self._counts(audience, scope)
        # Languages nobody in the audience reads are not asked; if nobody is in it at all,
        # its first language still needs a text.
        needed = [lang for lang in scope if counts[lang]] or scope[:1]
        ask = [] if draft.is_tip else [lang for lang in needed if lang not in draft.texts]
        self.machine.choose_audience(draft, audience, reads=scope, ask=ask)
        self.drafts.save(staff.user_id, draft)
        chosen = f"{pressed}\n\n✓ <b>{audience_label(self.content, pack, audience)}</b>"
        reply = StaffReply(head=Reply(screens=[Screen(chosen, replace=True)]))
        if not draft.is_tip:
            for lang in scope:
                if lang not in needed and lang not in draft.texts:
                    name = self._language(pack, lang)
                    reply.tail.append(Screen(pack.t("staff.compose.not_asked", language=name)))
        return reply.merge(self._show_step(staff, draft))

    def _skip(self, staff: Staff, draft: Draft, lang: str) -> StaffReply:
        """No text for the language asked: its parents will not get this (unless staff say)."""
        if draft.asking != lang:
            raise NotAllowed(f"{lang!r} is not the language asked now")
        pack = self._pack(staff)
        pressed = self._content_prompt(staff, draft).text
        self.machine.skip(draft)
        self.drafts.save(staff.user_id, draft)
        label = pack.t("staff.buttons.skip", language=self._language(pack, lang))
        chosen = Screen(f"{pressed}\n\n✓ <b>{label}</b>", replace=True)
        return StaffReply(head=Reply(screens=[chosen])).merge(self._show_step(staff, draft))

    def _take_content(self, staff: Staff, draft: Draft, incoming: Incoming) -> StaffReply:
        pack = self._pack(staff)
        lang = draft.asking
        if lang is None:  # a draft that cannot be asked anything: show where it is
            return self._show_step(staff, draft)
        if not incoming.is_text_or_photo:
            return StaffReply(tail=[Screen(pack.t("staff.compose.not_text_or_photo"))])
        if incoming.photo is not None and not self._may_bring_photo(draft, lang):
            first = self._language(pack, self._readers(draft).own[0])
            words = pack.t(
                "staff.compose.photo_first", language=self._language(pack, lang), first=first
            )
            return StaffReply(tail=[Screen(words)])
        # One photo for everyone: it comes with the first text; a lone text has none.
        photo = incoming.photo
        if photo is None and any(other != lang for other in draft.texts):
            photo = draft.photo
        # The queue runs the same check, so what passes here passes at Confirm.
        problem = message_problem({lang: incoming.html}, photo, self.content)
        if problem is None:
            problem = message_problem({**draft.texts, lang: incoming.html}, photo, self.content)
        if problem is not None:
            return self._refuse_content(staff, draft, incoming, problem, photo)
        self.machine.write(draft, text=incoming.html, photo=photo)
        self.drafts.save(staff.user_id, draft)
        reply = StaffReply()
        if incoming.formatting_removed:
            reply.tail.append(Screen(pack.t("staff.compose.formatting_removed")))
        return reply.merge(self._show_step(staff, draft))

    def _refuse_content(
        self, staff: Staff, draft: Draft, incoming: Incoming, problem: Problem, photo: str | None
    ) -> StaffReply:
        """Why the text cannot go; offer "Escape it for me" when escaping alone would fix it."""
        pack = self._pack(staff)
        words = problem_words(pack, problem)
        if problem.code != "bad_html":
            return StaffReply(tail=[Screen(words)])
        if not escape_would_fix({OTHERS: incoming.html}, photo, self.content):
            return StaffReply(tail=[Screen(f"{words}\n\n{pack.t('staff.compose.fix_and_resend')}")])
        # The draft keeps what was sent so the button can escape it. It still waits for the
        # same text, and only `write` (typed or escaped) leads on from there.
        draft.refused, draft.refused_photo = incoming.html, incoming.photo
        self.drafts.save(staff.user_id, draft)
        button = Button(
            pack.t("staff.buttons.escape"), _compose(draft, Op.ESCAPE, _digest(incoming.html))
        )
        words = f"{words}\n\n{pack.t('staff.compose.escape_offer')}"
        return StaffReply(tail=[Screen(words, ((button,),))])

    def _escape(self, staff: Staff, draft: Draft, digest: str) -> StaffReply:
        """Escape it for me: the refused text, escaped, taken exactly as if it had been typed."""
        if draft.state != AWAITING_CONTENT or draft.refused is None:
            raise NotAllowed("no refused text to escape")
        if _digest(draft.refused) != digest:
            raise NotAllowed("an older refusal's button")
        pack = self._pack(staff)
        refused = {OTHERS: draft.refused}
        problem = message_problem(refused, draft.refused_photo, self.content)
        if problem is None or not escape_would_fix(refused, draft.refused_photo, self.content):
            raise NotAllowed("escaping does not apply")  # content changed since the refusal
        # The refusal stays readable, without the button, and says what was chosen.
        pressed = f"{problem_words(pack, problem)}\n\n✓ <b>{pack.t('staff.buttons.escape')}</b>"
        reply = StaffReply(head=Reply(screens=[Screen(pressed, replace=True)]))
        incoming = Incoming(html=escaped(refused)[OTHERS], photo=draft.refused_photo)
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
        texts = self._readers(draft).texts
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
                    texts=texts,
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
        count = self.broadcasts.count_recipients(draft.audience, receiving(texts))
        log.info(
            "broadcast %d queued by staff (origin=%s, languages=%s)",
            broadcast_id,
            "tip" if draft.is_tip else "telegram",
            ",".join(sorted(texts)),
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
        if draft.state == AWAITING_AUDIENCE:
            return StaffReply(tail=[self._audience_prompt(staff, draft)])
        if draft.state == AWAITING_CONTENT:
            return StaffReply(tail=[self._content_prompt(staff, draft)])
        if draft.state == AWAITING_TIME:
            return StaffReply(tail=[self._time_prompt(staff, draft)])
        return self._preview(staff, draft)

    def _audience_prompt(self, staff: Staff, draft: Draft) -> Screen:
        """Who should receive it, with each choice's size; a new broadcast starts with it."""
        pack = self._pack(staff)
        rows = []
        for audience in self._audiences():
            count = self.broadcasts.count_recipients(audience)
            label = f"{audience_label(self.content, pack, audience)} · {count}"
            rows.append((Button(label, _compose(draft, Op.AUDIENCE, audience)),))
        rows.append((self._cancel_button(pack, draft),))
        words = pack.t("staff.audience.prompt")
        if not draft.texts and not draft.is_tip:
            words = f"{pack.t('staff.compose.start')}\n\n{words}"
        return Screen(words, tuple(rows))

    def _content_prompt(self, staff: Staff, draft: Draft) -> Screen:
        """Ask for the text of the language whose turn it is, with Skip when that is allowed."""
        pack = self._pack(staff)
        lang = draft.asking
        assert lang is not None and draft.audience is not None
        name = self._language(pack, lang)
        count = self.broadcasts.count_recipients(draft.audience, [lang])
        if self._may_bring_photo(draft, lang):
            key = "ask_first" if count else "ask_first_nobody"
            words = pack.t(f"staff.compose.{key}", language=name, count=count)
        else:
            words = pack.t("staff.compose.ask_next", language=name, count=count)
            if draft.photo is not None:
                words += " " + pack.t("staff.compose.ask_caption")
        if lang in draft.texts:
            words += "\n\n" + pack.t("staff.compose.replaces")
        rows: list[tuple[Button, ...]] = []
        if any(other != lang for other in draft.texts):
            label = pack.t("staff.buttons.skip", language=name)
            rows.append((Button(label, _compose(draft, Op.SKIP, lang)),))
        rows.append((self._cancel_button(pack, draft),))
        return Screen(words, tuple(rows))

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
        """Each language's message exactly as its parents get it, then the summary to confirm."""
        reply = StaffReply()
        readers = self._readers(draft)
        for lang in readers.shown:
            text = render_text(readers.texts, lang, self.content)
            reply.previews.append(Preview(text, draft.photo))
        reply.tail.append(
            Screen(self._summary_text(staff, draft), self._summary_buttons(staff, draft))
        )
        return reply

    def _summary_text(self, staff: Staff, draft: Draft) -> str:
        pack = self._pack(staff)
        assert draft.audience is not None
        readers = self._readers(draft)
        counted = []
        for lang in readers.shown:
            values = {"language": self.content.languages[lang].name, "count": readers.counts[lang]}
            if lang in readers.texts:
                counted.append(pack.t("staff.preview.count", **values))
            else:
                other = self._language(pack, draft.others_get or "")
                counted.append(pack.t("staff.preview.count_other", other=other, **values))
        lines = [pack.t("staff.preview.above", counts=" ".join(counted))]
        if draft.tip_id is not None:
            lines.append(self._tip_summary(pack, draft.tip_id))
        for lang in readers.missing:
            values = {"language": self._language(pack, lang), "count": readers.counts[lang]}
            if draft.others_get is None:
                lines.append(pack.t("staff.preview.missing", **values))
            else:
                other = self._language(pack, draft.others_get)
                lines.append(pack.t("staff.preview.others_get", other=other, **values))
        lines.append(
            pack.t(
                "staff.preview.audience",
                audience=audience_label(self.content, pack, draft.audience),
                count=readers.total,
            )
        )
        if readers.total == 0:
            lines.append(pack.t("staff.preview.nobody"))
        lines.append(self._when_line(pack, draft))
        lines.append(pack.t("staff.preview.zone", zone=self.settings.timezone))
        return "\n\n".join(lines)

    def _tip_summary(self, pack: LanguagePack, tip_id: str) -> str:
        title = tip_title((tip_texts(self.content, tip_id) or {}).get(pack.code, ""))
        words = pack.t("staff.preview.tip", title=title or tip_id)
        tip = next((t for t in self.content.pack(None).tips if t.id == tip_id), None)
        if tip is not None and tip.interests:
            labels = ", ".join(interest_label(pack, i) for i in tip.interests)
            words += "\n" + pack.t("staff.tips.for", interests=labels)
        return words

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
        readers = self._readers(draft)
        rows: list[tuple[Button, ...]] = []
        # A language without a text first: write it, or (after a warning) send it another.
        for lang in readers.missing:
            label = pack.t("staff.buttons.write_lang", language=self._language(pack, lang))
            rows.append((Button(label, _compose(draft, Op.EDIT_TEXT, lang)),))
        if readers.missing and draft.others_get is None:
            other = readers.own[0]
            label = pack.t("staff.buttons.others_get", other=self._language(pack, other))
            rows.append((Button(label, _compose(draft, Op.OTHERS_GET, other)),))
        elif readers.missing:
            rows.append((Button(pack.t("staff.buttons.leave_out"), _compose(draft, Op.LEAVE_OUT)),))
        rows.extend(self._confirm_rows(pack, draft))
        audience = Button(pack.t("staff.buttons.edit_audience"), _compose(draft, Op.EDIT_AUDIENCE))
        if draft.is_tip:
            rows.append((audience,))
        elif len(readers.own) == 1:
            action = _compose(draft, Op.EDIT_TEXT, readers.own[0])
            rows.append((Button(pack.t("staff.buttons.edit_text"), action), audience))
        else:
            # One button per language written, on a row of their own: "✏️ Spanish text".
            edits = []
            for lang in readers.own:
                label = pack.t("staff.buttons.edit_lang", language=self._language(pack, lang))
                edits.append(Button(label, _compose(draft, Op.EDIT_TEXT, lang)))
            rows.append(tuple(edits))
            rows.append((audience,))
        rows.append((self._cancel_button(pack, draft),))
        return tuple(rows)

    def _confirm_rows(self, pack: LanguagePack, draft: Draft) -> list[tuple[Button, ...]]:
        """Confirm (now, or when quiet hours end), keep the time anyway, and the schedule."""
        now = local_time(self.storage.clock(), self.tz)
        asked = self._send_at(draft)
        if asked is not None and asked <= now:
            asked = None
        release = release_time(now, asked, self.settings.quiet_hours)
        # Confirm carries the choice it was shown with: pressed after that changed, it is stale.
        choice = draft.others_get
        rows: list[tuple[Button, ...]] = []
        if release is None:
            label = pack.t("staff.buttons.confirm")
        else:
            label = pack.t("staff.buttons.confirm_later", time=self._short(pack, release))
        rows.append((Button(label, _compose(draft, Op.CONFIRM, choice)),))
        if release is not None and release != asked:
            # Quiet hours moved it: offer to keep the time asked for.
            if asked is None:
                label = pack.t("staff.buttons.send_now_anyway")
            else:
                label = pack.t("staff.buttons.send_at_anyway", time=self._short(pack, asked))
            rows.append((Button(label, _compose(draft, Op.CONFIRM_IGNORING_QUIET, choice)),))
        if asked is None:
            rows.append((Button(pack.t("staff.buttons.schedule"), _compose(draft, Op.ASK_TIME)),))
        else:
            rows.append(
                (
                    Button(pack.t("staff.buttons.change_time"), _compose(draft, Op.ASK_TIME)),
                    Button(pack.t("staff.buttons.unschedule"), _compose(draft, Op.UNSCHEDULE)),
                )
            )
        return rows

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
            return _stale(pack)
        if tip_texts(self.content, arg) is None:
            reply = StaffReply(tail=[Screen(pack.t("staff.tips.unknown"))])
            return reply.merge(self.tips(staff))
        reply = self._replacing_note(staff)
        draft = self.machine.new_tip(_new_id(), arg, schedule=op == Op.TIP_SCHEDULE)
        self.drafts.save(staff.user_id, draft)
        return reply.merge(self._show_step(staff, draft))

    def _tip_line(
        self,
        pack: LanguagePack,
        number: int,
        tip_id: str,
        states: dict[str, tuple[str, float]],
        drip_next: str | None,
    ) -> str:
        """One tip on the list: its number, its title in the staff's language, its state."""
        texts = tip_texts(self.content, tip_id) or {}
        title = tip_title(texts.get(pack.code, "")) or tip_id
        state, moment = states.get(tip_id, ("", 0.0))
        local = local_time(moment, self.tz)
        if state == TIP_SENT:
            month = pack.t("staff.months").split(",")[local.month - 1]
            said = pack.t("staff.tips.state.sent", day=local.day, month=month)
        elif state == TIP_SCHEDULED:
            said = pack.t("staff.tips.state.scheduled", time=self._when(pack, local))
        elif state == TIP_SENDING:
            said = pack.t("staff.tips.state.sending")
        elif state == TIP_PAUSED:
            said = pack.t("staff.tips.state.paused")
        else:
            said = pack.t("staff.tips.state.not_sent")
        if tip_id == drip_next:
            said += f" · {pack.t('staff.tips.drip_next')}"
        return f"<b>{number}.</b> {title} · <i>{said}</i>"

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

    # --- who reads what, and words ---------------------------------------------------------

    def _readers(self, draft: Draft) -> Readers:
        """The draft's audience by language now, and the texts Confirm would queue."""
        audience = draft.audience or ""
        scope = audience_languages(audience, self.content.languages) if audience else []
        counts = self._counts(audience, scope) if audience else {}
        if draft.tip_id is not None:
            found = tip_texts(self.content, draft.tip_id)
            if found is None:
                raise NotAllowed(f"tip {draft.tip_id!r} is no longer in the content")
            texts = {lang: found[lang] for lang in scope if lang in found}
        else:
            texts = {lang: draft.texts[lang] for lang in scope if lang in draft.texts}
            if draft.others_get in texts:
                texts[OTHERS] = texts[draft.others_get]
        return Readers(scope, counts, texts)

    def _counts(self, audience: str, scope: list[str]) -> dict[str, int]:
        return {lang: self.broadcasts.count_recipients(audience, [lang]) for lang in scope}

    def _may_bring_photo(self, draft: Draft, lang: str) -> bool:
        """A photo comes with the first text: no language before this one has a text."""
        scope = self._readers(draft).scope
        earlier = scope[: scope.index(lang)] if lang in scope else scope
        return not any(other in draft.texts for other in earlier)

    def _language(self, pack: LanguagePack, code: str) -> str:
        """A language's name in the staff member's words ("Spanish"), for sentences."""
        names = pack.ui.get("staff", {}).get("audience", {}).get("names", {})
        if code in names:
            return str(names[code])
        return self.content.languages[code].name if code in self.content.languages else code

    def _audiences(self) -> list[str]:
        return audiences(self.content.languages)

    def _send_at(self, draft: Draft) -> dt.datetime | None:
        return local_time(draft.send_at, self.tz) if draft.send_at is not None else None

    def _quiet_text(self) -> str:
        return str(self.settings.quiet_hours).replace("-", "–")

    def _when(self, pack: LanguagePack, moment: dt.datetime) -> str:
        return date_time(pack, moment, self.tz)

    def _short(self, pack: LanguagePack, moment: dt.datetime) -> str:
        return weekday_time(pack, moment, self.tz)

    def _example_time(self, now: dt.datetime) -> str:
        tomorrow = now.date() + dt.timedelta(days=1)
        return f"{tomorrow.isoformat()} 09:30"

    def _pack(self, staff: Staff) -> LanguagePack:
        return self.content.pack(staff.lang)

    def _drop(self, staff: Staff, found: Stored | None) -> StaffReply:
        """A draft that cannot be used any more (a day old, or from an older bot): say so."""
        self.drafts.delete(staff.user_id)
        problem = (found.problem if found is not None else None) or EXPIRED
        return StaffReply(tail=[Screen(self._pack(staff).t(f"staff.compose.{problem}"))])

    def _replacing_note(self, staff: Staff) -> StaffReply:
        """A new draft replaces an unfinished one: say so, so nothing vanishes silently."""
        reply = StaffReply()
        found = self.drafts.get(staff.user_id)
        if found is not None and found.problem is None:
            reply.tail.append(Screen(self._pack(staff).t("staff.compose.replaced")))
        return reply


# Buttons on the preview that lead to another step: the summary pressed loses its buttons.
_LEAVING_THE_PREVIEW = frozenset(
    {Op.ASK_TIME, Op.EDIT_TEXT, Op.EDIT_AUDIENCE, Op.OTHERS_GET, Op.LEAVE_OUT}
)


def _stale(pack: LanguagePack) -> StaffReply:
    return StaffReply(head=Reply(toast=pack.t("staff.compose.stale"), alert=True))


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


def _even_rows(buttons: list[Button], most: int) -> list[tuple[Button, ...]]:
    """Buttons in rows of at most `most`, as even as can be: 6 -> 3 + 3, 5 -> 3 + 2."""
    if not buttons:
        return []
    count = -(-len(buttons) // most)
    size = -(-len(buttons) // count)
    return [tuple(buttons[i : i + size]) for i in range(0, len(buttons), size)]


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
