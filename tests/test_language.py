"""Spanish and choosing a language: same screening, same outcomes, from the first message."""

from __future__ import annotations

import json

import pytest

from bot.content import Content, visible_text
from bot.parent.conversation import Chat, Conversation
from flows.outcomes import Decision
from flows.screening import Screening
from tests.botenv import BotEnv
from tests.fakebot import ChatClient
from tests.parents import result_message


@pytest.fixture(scope="module")
def covering_paths(
    every_path: list[tuple[list[tuple[str, str]], Decision]],
) -> list[list[tuple[str, str]]]:
    """Few paths that together press every option of every question and reach every outcome."""
    chosen: list[list[tuple[str, str]]] = []
    edges: set[tuple[str, str]] = set()
    outcomes: set[str] = set()
    for taken, decision in every_path:
        new_edges = set(taken) - edges
        if new_edges or decision.outcome_id not in outcomes:
            chosen.append(taken)
            edges |= set(taken)
            outcomes.add(decision.outcome_id)
    return chosen


async def run_path(client: ChatClient, content: Content, lang: str, path) -> None:  # type: ignore[no-untyped-def]
    words = content.pack(lang)
    await client.send("/start")
    await client.press(words.t("menu.screening"))
    for question, option in path:
        await client.press(words.questions[question].options[option])
        if words.t("crisis.continue") in client.buttons:  # the crisis pause
            await client.press(words.t("crisis.continue"))


async def test_a_spanish_telegram_gets_spanish_from_the_first_message(env: BotEnv) -> None:
    for code, expected in (("es", "es"), ("es-MX", "es"), ("fr", "en"), (None, "en")):
        client = env.client(chat_id=hash(str(code)) % 10**6, language_code=code)
        await client.send("/start")
        welcome = env.content.pack(expected).t("menu.screening")
        assert welcome in client.buttons, (code, client.buttons)


async def test_spanish_reaches_the_same_outcome_for_the_same_answers(
    env: BotEnv, content: Content, covering_paths
) -> None:
    assert len(covering_paths) >= 6
    for i, path in enumerate(covering_paths):
        for lang in ("en", "es"):
            client = env.client(chat_id=10_000 + 2 * i + (lang == "es"), language_code=lang)
            await run_path(client, content, lang, path)
            title = content.pack(lang).outcomes
            shown = result_message(client).text
            assert any(visible_text(o.title) in shown for o in title.values()), shown
    rows = env.rows("outcomes")
    by_chat_pair: dict[str, dict[str, str]] = {}
    for row in rows:
        answers = row["answers"]
        by_chat_pair.setdefault(answers, {})[row["lang"]] = row["outcome_id"]
    assert len(rows) == 2 * len(covering_paths)
    for pair in by_chat_pair.values():
        assert pair["en"] == pair["es"]
    # Nothing the bot tried to send in Spanish was refused (length, HTML, button data).
    assert all(call.status == 200 for call in env.api.calls), [
        (c.method, c.error) for c in env.api.calls if c.status != 200
    ]


async def test_switching_language_mid_screening_keeps_the_answers(
    env: BotEnv, content: Content
) -> None:
    maria = env.client()
    en, es = content.pack("en"), content.pack("es")
    await maria.send("/start")
    await maria.press(en.t("menu.screening"))
    await maria.press(en.questions["age"].options["school"])
    await maria.press(en.questions["plan"].options["504"])
    await maria.press(en.questions["plan_followed"].options["yes"])
    await maria.send("/language")
    await maria.press("Español")
    assert visible_text(es.questions["plan_enough"].text) in maria.last_text
    assert es.t("progress", n=4, total=11) in maria.last_text
    await maria.press(es.t("buttons.back"))
    assert es.t("you_answered", answer=es.questions["plan_followed"].options["yes"]) in (
        maria.last_text
    )
    for question, option in [
        ("plan_followed", "yes"),
        ("plan_enough", "partly"),
        ("learning", "stuck"),
        ("effort", "yes"),
        ("emotions", "sometimes"),
        ("attention", "no"),
        ("removals", "no"),
        ("services", "no"),
        ("evaluation", "no"),
    ]:
        await maria.press(es.questions[question].options[option])
    [row] = env.rows("outcomes")
    assert row["lang"] == "es"
    assert json.loads(row["answers"])["plan"] == "504"
    assert row["outcome_id"] == "current_504_not_enough"


async def test_the_chosen_language_is_remembered_over_telegram_s(env: BotEnv) -> None:
    ana = env.client(language_code="en")
    await ana.send("/start")
    await ana.press("Language · Idioma")
    await ana.press("Español")
    await env.restart()
    ana = env.client(language_code="en")
    await ana.send("/start")
    assert env.content.pack("es").t("menu.screening") in ana.buttons
    [pref] = env.rows("chat_prefs")
    assert pref["lang"] == "es" and "4242" not in json.dumps(pref)


def test_terminal_chat_runs_in_spanish(content: Content, settings, storage) -> None:  # type: ignore[no-untyped-def]
    from bot.terminal import TerminalChat

    out: list[str] = []
    conversation = Conversation(content, storage, settings, Screening(content.spec))
    storage.set_language("terminal-test", "es")
    chat = TerminalChat(
        conversation, Chat("terminal-test", "es"), read=lambda _: "/quit", write=out.append
    )
    chat.run()
    chat.handle("1")
    text = "\n".join(out)
    assert content.pack("es").t("menu.screening") in text
    assert visible_text(content.pack("es").questions["age"].text) in text
