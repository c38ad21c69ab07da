"""Parents' stories (tests/stories.py) told to the real bot through the fake Bot API.

Each story is tapped through as a parent would, in each of its languages, and must end in
the outcome the advocate gave it, with the red flags on top and Book beside Free help.
"""

from __future__ import annotations

import pytest

from bot.content import Content, LanguagePack, visible_text
from bot.letters.book import load_letters
from bot.parent.checkins import offers_checkin
from flows.outcomes import decide, raised_flags
from tests.botenv import BotEnv
from tests.fakebot import ChatClient
from tests.stories import STORIES, Story

CASES = [(story, lang) for story in STORIES for lang in story.languages]


def test_there_are_enough_stories_in_both_languages() -> None:
    assert len(STORIES) >= 24
    assert sum("es" in story.languages for story in STORIES) >= 6
    assert len({story.name for story in STORIES}) == len(STORIES)


def test_every_outcome_has_a_story(content: Content) -> None:
    told = {story.outcome for story in STORIES}
    assert told == set(content.spec.outcome_ids)


def test_the_rules_give_each_story_its_outcome(content: Content) -> None:
    # The same check as below without Telegram, all at once, so a rule change that breaks
    # several stories says which at a glance.
    wrong = {}
    for story in STORIES:
        decision = decide(content.spec, dict(story.answers))
        if decision.outcome_id != story.outcome or (story.also and decision.also != story.also):
            wrong[story.name] = (decision.outcome_id, decision.also)
    assert wrong == {}


async def tell(client: ChatClient, pack: LanguagePack, story: Story) -> None:
    """/start, then the menu's first button, then each answer's button, in `pack`'s words."""
    await client.send("/start")
    await client.press(pack.t("menu.screening"))
    for question, option in story.answers:
        await client.press(pack.questions[question].options[option])
        if option == "harm" and (question, option) != story.answers[-1]:
            # The screening pauses on 988 / 911 until the parent chooses to go on.
            assert "988" in client.last_text and "911" in client.last_text
            assert pack.t("crisis.url") in client.url_buttons.values()
            assert pack.t("crisis.stop") in client.buttons
            await client.press(pack.t("crisis.continue"))


@pytest.mark.parametrize(("story", "lang"), CASES, ids=[f"{s.name}-{lang}" for s, lang in CASES])
async def test_story(env: BotEnv, content: Content, story: Story, lang: str) -> None:
    pack = content.pack(lang)
    parent = env.client(language_code=lang)
    await tell(parent, pack, story)

    words = pack.outcomes[story.outcome]
    first_step = next(r.first_step for r in content.spec.outcomes if r.id == story.outcome)
    # A result that asks the school for something is followed by one short message: the
    # check-in's offer. The result itself stays the first thing to read, right above it.
    shown = parent.last
    if offers_checkin(first_step):
        assert shown.text == visible_text(pack.t("followup.checkin.offer_weeks", n=4))
        assert shown.buttons == [pack.t("followup.checkin.yes"), pack.t("followup.checkin.no")]
        shown = parent.messages[-2]
    result = shown.text
    assert visible_text(words.title) in result
    flags = [visible_text(pack.flags[f]) for f in raised_flags(content.spec, dict(story.answers))]
    # Red flags come first, above the conclusion.
    assert result.startswith("\n".join(flags)) if flags else result.startswith(words.title)
    assert visible_text(words.steps[0]) in result
    # Under Book and Free help: "Track the deadline" when the first step is to track the
    # school's timeline, "Write the letter" when the result asks for a request.
    offers = load_letters(content).offered(story.outcome)
    write = [pack.t("letters.flow.write_button")] if offers else []
    track = [pack.t("followup.deadline.track_button")] if first_step == "track_timeline" else []
    assert shown.buttons[: 3 + len(track) + len(write)] == [
        pack.t("buttons.book"),
        pack.t("buttons.free_help"),
        *track,
        *write,
        pack.t("buttons.details"),
    ]
    [row] = env.rows("outcomes")
    assert row["outcome_id"] == story.outcome and row["lang"] == lang

    await parent.press_on(shown.message_id, pack.t("buttons.details"))
    details = parent.last_text
    for step in words.steps:
        assert visible_text(step) in details
    if story.also:
        assert visible_text(pack.outcomes[story.also].title) in details
