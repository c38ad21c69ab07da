"""/tips as a compact list: a line per tip with its state, a page fits one phone screen, a
number button per tip that opens its preview in every language."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from bot.callbacks import Action
from bot.content import Content, visible_text
from bot.tg.jobs import post_weekly_tip
from tests.conftest import STAFF_ID
from tests.fakebot import ChatClient, SentMessage
from tests.staff import Scene, at, deliver_due, texts_of

SCREEN = 900  # visible characters a phone shows on one screen, about
MOST_PER_PAGE = 8
LINE = re.compile(r"^(\d+)\. (.+) · (.+)$")


def _staff(scene: Scene, lang: str) -> ChatClient:
    return scene.env.client(
        chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana", language_code=lang
    )


async def _pages(staff: ChatClient, next_label: str) -> list[SentMessage]:
    """Every page of /tips, as shown one after the other (paging edits the one message)."""
    await staff.send("/tips")
    listing = staff.last.message_id
    pages = [copy.deepcopy(staff.last)]
    while next_label in staff.buttons:
        await staff.press(next_label)
        assert staff.last.message_id == listing  # paged in place
        pages.append(copy.deepcopy(staff.last))
    return pages


@pytest.mark.parametrize(
    ("lang", "next_label", "header"),
    [("en", "Next ▶", "Ready-made tips, page"), ("es", "Siguiente ▶", "Consejos listos, página")],
)
async def test_every_tip_on_pages_that_fit_one_screen(
    scene: Scene, content: Content, lang: str, next_label: str, header: str
) -> None:
    with open(content.root / "en" / "tips.yaml", encoding="utf-8") as file:
        count = len(yaml.safe_load(file)["tips"])
    assert count == 17  # the tips in content/en/tips.yaml today
    pages = await _pages(_staff(scene, lang), next_label)
    assert len(pages) == 3
    titles = {t.id: t.text.split("\n")[0] for t in content.pack(lang).tips}
    listed: list[int] = []
    for number, page in enumerate(pages, 1):
        assert page.text.startswith(f"{header} {number} ")
        assert len(visible_text(page.source)) < SCREEN, page.text
        lines = [m for line in page.text.split("\n") if (m := LINE.match(line))]
        assert 1 <= len(lines) <= MOST_PER_PAGE
        numbers = [int(m.group(1)) for m in lines]
        listed += numbers
        for found in lines:  # the title in the staff member's language
            tip = content.pack("en").tips[int(found.group(1)) - 1]
            assert visible_text(titles[tip.id]) == found.group(2)
        # Paging first, then one button per tip on the page, a few to a row.
        rows = [[b.text for b in row] for row in page.reply_markup]
        nav = rows[0]
        assert [label for row in rows[1:] for label in row] == [str(n) for n in numbers]
        assert all(len(row) <= 4 for row in rows[1:])
        assert (next_label in nav) == (number < len(pages))
        assert any("◀" in label for label in nav) == (number > 1)
    assert listed == list(range(1, count + 1))


async def test_a_page_stays_on_one_screen_when_every_tip_is_scheduled(
    scene: Scene, content: Content
) -> None:
    broadcasts = scene.env.app.services.broadcasts
    for tip in content.pack("en").tips:
        broadcasts.queue(
            audience="all",
            texts={"en": tip.text},
            tip_id=tip.id,
            created_by=None,
            origin="cli",
            not_before=at(2026, 12, 30, 9, 30),
        )
    for lang, next_label in (("en", "Next ▶"), ("es", "Siguiente ▶")):
        for page in await _pages(_staff(scene, lang), next_label):
            assert len(visible_text(page.source)) < SCREEN, page.text
            assert "30 Dec 2026, 09:30" in page.text or "30 de dic de 2026, 09:30" in page.text


async def test_a_number_opens_that_tip_in_every_language(scene: Scene, content: Content) -> None:
    staff = scene.staff
    await staff.send("/tips")
    await staff.press("Next ▶")
    tip = content.pack("en").tips[8]
    mark = staff.mark()
    await staff.press("9")
    preview_en, preview_es, summary = staff.new_since(mark)
    assert preview_en.text.startswith(visible_text(tip.text).strip())
    assert preview_es.text.startswith(visible_text(content.pack("es").tips[8].text).strip())
    assert "Ready-made tip: How to read IEP goals." in summary.text
    assert "For: " in summary.text
    assert summary.buttons[:2] == ["✅ Confirm and send", "🕒 Schedule for later"]
    assert scene.broadcasts == []


# --- the state of each tip comes from its broadcasts ----------------------------------------------


async def test_a_tip_scheduled_for_tomorrow_says_when_and_later_that_it_was_sent(
    scene: Scene,
) -> None:
    staff = scene.staff
    await staff.send("/tips")
    await staff.press("2")
    await staff.press("🕒 Schedule for later")
    await staff.send("tomorrow 9:30")
    await staff.press("✅ Confirm")
    await staff.send("/tips")
    line = "2. When does the 60-day clock start? · 🕒 scheduled for Sun 29 Nov 2026, 09:30"
    assert line in staff.last_text.split("\n")
    assert "sent 29" not in staff.last_text and "already" not in staff.last_text
    spanish = _staff(scene, "es")
    await spanish.send("/tips")
    assert (
        "2. ¿Cuándo empiezan a contar los 60 días? · 🕒 programado para el dom 29 de nov de "
        "2026, 09:30" in spanish.last_text.split("\n")
    )

    scene.clock.now = at(2026, 11, 29, 9, 31)
    await deliver_due(scene)
    await staff.send("/tips")
    assert "2. When does the 60-day clock start? · ✓ sent 29 Nov" in staff.last_text.split("\n")
    await spanish.send("/tips")
    assert "✓ enviado el 29 de nov" in spanish.last_text


async def test_sending_paused_and_cancelled_tips(scene: Scene, content: Content) -> None:
    broadcasts = scene.env.app.services.broadcasts
    tips = content.pack("en").tips

    def queue(number: int, **extra: float) -> int:
        tip = tips[number - 1]
        return broadcasts.queue(
            audience="all", texts={"en": tip.text}, tip_id=tip.id, created_by=None, origin="cli",
            **extra,
        )  # fmt: skip

    queue(1)  # due now
    paused = queue(3, not_before=at(2026, 12, 3, 10, 0))
    broadcasts.pause(paused)
    cancelled = queue(4, not_before=at(2026, 12, 3, 10, 0))
    broadcasts.cancel(cancelled)
    await scene.staff.send("/tips")
    lines = scene.staff.last_text.split("\n")
    assert "1. Asking for an evaluation · 📣 sending now" in lines
    assert "3. If the school says no · ⏸ paused" in lines
    assert "4. Do you disagree with the evaluation? · not sent yet" in lines


async def test_the_weekly_tip_skips_a_scheduled_tip_but_not_a_cancelled_one(
    drip_scene: Scene, content: Content
) -> None:
    scene, tips = drip_scene, content.pack("en").tips
    await scene.staff.send("/tips")
    await scene.staff.press("1")
    await scene.staff.press("🕒 Schedule for later")
    await scene.staff.send("2026-12-10 09:00")
    await scene.staff.press("✅ Confirm")
    await scene.staff.send("/tips")
    lines = scene.staff.last_text.split("\n")
    assert "2. When does the 60-day clock start? · not sent yet · next weekly tip" in lines
    scene.clock.now = at(2026, 12, 1, 10, 0)
    run = await post_weekly_tip(scene.env.app)
    assert run is not None and run.tip_id == tips[1].id

    broadcasts = scene.env.app.services.broadcasts
    broadcasts.cancel(scene.broadcasts[0]["id"])  # the scheduled tip 1, cancelled
    scene.clock.now = at(2026, 12, 8, 10, 0)
    run = await post_weekly_tip(scene.env.app)
    assert run is not None and run.tip_id == tips[0].id


# --- stale and forged buttons ---------------------------------------------------------------------


async def test_odd_tips_buttons(scene: Scene) -> None:
    staff = scene.staff
    await staff.send("/tips")
    listing = staff.last.message_id
    await staff.press_data(scene.encode(Action("Y", ("p", "99"))))
    assert staff.last.message_id == listing and "page 3 of 3" in staff.last_text
    await staff.press_data(scene.encode(Action("Y", ("p", "x"))))
    assert "page 1 of 3" in staff.last_text
    await staff.press_data(scene.encode(Action("Y", ("zz", "iee"))))
    assert staff.callback_answers[-1].text == (
        "That button is from an earlier step. It does nothing now."
    )
    await staff.press_data(scene.encode(Action("Y", ("n", "no_such_tip"))))
    assert "That tip is no longer in the content. Here is the current list." in texts_of(
        staff.messages
    )
    assert staff.last_text.startswith("Ready-made tips, page 1 of 3")
    await staff.press_data("1|Y|n|iee|zzzzzz")  # a bad signature
    assert staff.callback_answers[-1].text == (
        "That button is from an earlier step. It does nothing now."
    )
    assert scene.broadcasts == [] and scene.drafts == []
    # A Schedule button from an older list still asks the time first.
    await staff.press_data(scene.encode(Action("Y", ("s", "iee"))))
    assert staff.last_text.startswith("When should it go?")


async def test_typing_on_a_tip_preview_points_to_the_buttons(scene: Scene) -> None:
    await scene.staff.send("/tips")
    await scene.staff.press("1")
    await scene.staff.send("yes send it")
    assert "Please use the buttons above, or /cancel to stop." in texts_of(scene.staff.messages)
    assert scene.staff.buttons[0] == "✅ Confirm and send"
    assert scene.broadcasts == []
