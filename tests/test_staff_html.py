"""Staff HTML that Telegram would refuse: found before queueing, said plainly, or escaped.

bot/html.py checks by Telegram's own rules (a `<` always starts a tag; only a few entities);
the fake Bot API's parser (tests/fakebot/html.py) is the oracle: whatever the check accepts,
it must accept too. Staff choose between correcting the text and "Escape it for me".
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.broadcast.compose import problem_words
from bot.broadcast.message import Problem, message_problem
from bot.content import Content
from bot.html import escape_stray, html_problem, plain, visible_text
from bot.tg.updates import RecentUpdates
from flows.compose import AWAITING_CONTENT
from tests.conftest import STAFF_ID
from tests.fakebot import EntityParseError, parse_html
from tests.staff import (
    PARENTS,
    Scene,
    compose_to_preview,
    deliver_due,
    received,
)

# --- the check ---------------------------------------------------------------------------------

ISSUE_TEXTS = {  # issue 10, point 7: each passed the old check (or crashed it)
    "1 < 2": "stray_lt",
    "<3": "stray_lt",
    "<!-- -->": "comment",
    "a<b": "stray_lt",
    "<a href>x</a>": "bad_link",
    "<a>x</a>": "bad_link",
    '<a href="">x</a>': "bad_link",
    '<a href="javascript:x">x</a>': "bad_link",
}
ONE_PER_CODE = {  # a text for every code, to check that each has its words
    "stray_lt": "Meeting tips: 1 < 2",
    "comment": "Hi <!-- draft --> there",
    "unknown_tag": "<u>under</u>",
    "bad_attribute": '<b class="big">Hi</b>',
    "bad_link": '<a href="tg://x">x</a>',
    "bare_amp": "Q&A night",
    "bad_entity": "Hi&nbsp;there",
    "closes_nothing": "Hi</b>",
    "wrong_close": "<b><i>Hi</b></i>",
    "unclosed": "<b>Hi",
}
GOOD = [
    '<b>Hi</b> &amp; <a href="https://x.org">link</a>',
    "&#233;",
    "5 &lt; 6",
    "grades > 90",
    "<i>x</i> &#x1F600; &quot;q&quot;",
    "<a href='https://x.org/?a=1&amp;b=2'>single quotes</a>",
]


@pytest.mark.parametrize(("text", "code"), ISSUE_TEXTS.items())
def test_the_issue_texts_each_have_a_problem(text: str, code: str) -> None:
    problem = html_problem(text)
    assert problem is not None and problem.code == code


@pytest.mark.parametrize("text", ["1 < 2", "<3", "<!-- -->", "a<b"])
def test_telegram_refuses_them_too(text: str) -> None:
    with pytest.raises(EntityParseError):
        parse_html(text)


@pytest.mark.parametrize("text", GOOD)
def test_good_html_passes_and_telegram_agrees(text: str) -> None:
    assert html_problem(text) is None
    assert parse_html(text)[0] == visible_text(text)


def test_a_problem_says_where_it_is() -> None:
    problem = html_problem("<b>Meeting tips:</b>\n1 < 2 <3")
    assert problem is not None and problem.code == "stray_lt"
    assert problem.values == {"position": 23, "line": 2, "near": "1 < 2 <3"}
    problem = html_problem("<b><i>Hi</b></i>")
    assert problem is not None
    assert (problem.code, problem.values["tag"], problem.values["open"]) == (
        "wrong_close",
        "</b>",
        "<i>",
    )


@pytest.mark.parametrize(("code", "text"), ONE_PER_CODE.items())
@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_code_has_words_in_every_language(
    content: Content, code: str, text: str, lang: str
) -> None:
    found = html_problem(text)
    assert found is not None and found.code == code
    problem = message_problem({"*": text}, None, content)
    assert problem == Problem("bad_html", {"html": code, **found.values})
    pack = content.pack(lang)
    assert set(pack.ui["staff"]["compose"]["bad_html"]) == set(ONE_PER_CODE)
    words = problem_words(pack, problem)
    assert "{" not in words
    assert html_problem(words) is None  # the staff message itself must be sendable
    parse_html(words)


def test_the_words_quote_the_text_as_typed(content: Content) -> None:
    problem = message_problem({"*": "Meeting tips: 1 < 2"}, None, content)
    assert problem is not None
    assert plain(problem_words(content.pack("en"), problem)) == (
        "The text has a “<” that Telegram would refuse (near “tips: 1 < 2”). "
        "To show it as it is, write &lt; instead."
    )
    assert plain(problem_words(content.pack("es"), problem)).startswith(
        "El texto tiene un «<» que Telegram rechazaría (cerca de «tips: 1 < 2»)."
    )


def test_escape_stray_keeps_markup_and_escapes_the_rest() -> None:
    assert escape_stray("<b>Tips:</b> 1 < 2 <3 & more") == (
        "<b>Tips:</b> 1 &lt; 2 &lt;3 &amp; more"
    )
    assert escape_stray("<u>u</u> &nbsp; &amp; <!-- c -->") == (
        "&lt;u&gt;u&lt;/u&gt; &amp;nbsp; &amp; &lt;!-- c --&gt;"
    )
    link = '<a href="https://x.org/?a=1&b=2">x</a>'
    assert escape_stray(link) == '<a href="https://x.org/?a=1&amp;b=2">x</a>'
    assert plain(escape_stray(link)) == "x (https://x.org/?a=1&b=2)"


# --- properties --------------------------------------------------------------------------------

PIECES = [
    "<", ">", "&", "/", '"', "'", "=", " ", "\n", ";", "#", "-", "!",
    "a", "b", "i", "u", "B", "x", "1", "é", "😀",
    "href", "span", "https://x.org", "javascript:x", "amp;", "lt;", "quot;", "#233;", "#x41;",
    "#0;", "#55296;", "nbsp;", "<!--", "-->", "<b>", "</b>", "<i>", "</i>", "</a>", "<a ",
    '<a href="https://x.org/?a=1&amp;b=2">', "<a href='https://x.org'>", "<b/>",
]  # fmt: skip
HTML_ISH = st.lists(st.sampled_from(PIECES), max_size=25).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=80), HTML_ISH)
STRUCTURE = {"unclosed", "closes_nothing", "wrong_close"}  # escaping cannot fix these


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT)
def test_the_check_never_raises_and_escaping_fixes_all_but_structure(text: str) -> None:
    problem = html_problem(text)
    visible_text(text)
    plain(text)
    out = escape_stray(text)
    assert escape_stray(out) == out
    after = html_problem(out)
    assert after is None or after.code in STRUCTURE, (out, after)
    if problem is None:
        assert visible_text(out) == visible_text(text)


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT)
def test_what_the_check_accepts_telegram_accepts(text: str) -> None:
    if html_problem(text) is None:
        shown, _ = parse_html(text)  # raises EntityParseError if Telegram would refuse it
        assert shown == visible_text(text)


# Text around allowed tags, written with characters that cannot form an entity or an allowed
# tag: what a reader should see is the text exactly as typed.
LITERAL = st.text(alphabet=st.sampled_from(list("<>&/=;!-\"' #xyzé😀\n")), max_size=8)
TAGS = [("<b>", "</b>"), ("<i>", "</i>"), ('<a href="https://example.org/p?q=1&amp;r=2">', "</a>")]
Node = tuple[str, str]  # (source, what a reader sees)


def _join(nodes: list[Node]) -> Node:
    return "".join(n[0] for n in nodes), "".join(n[1] for n in nodes)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    wrapped = st.tuples(st.sampled_from(TAGS), st.lists(children, max_size=3)).map(
        lambda t: (t[0][0] + _join(t[1])[0] + t[0][1], _join(t[1])[1])
    )
    return st.one_of(wrapped, st.lists(children, max_size=3).map(_join))


MARKED_UP = st.recursive(LITERAL.map(lambda s: (s, s)), _extend, max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(MARKED_UP)
def test_escaped_text_is_accepted_and_shows_the_stray_characters(node: Node) -> None:
    source, expected = node
    out = escape_stray(source)
    assert html_problem(out) is None, (source, out, html_problem(out))
    assert visible_text(out) == expected
    assert parse_html(out)[0] == expected


# --- through Telegram --------------------------------------------------------------------------

TYPED = "<b>Meeting tips:</b> 1 < 2 <3"  # a tag typed by hand: the rest is taken as HTML too
REASON_EN = "The text has a “<” that Telegram would refuse (near “1 < 2 <3”)."
REASON_ES = "El texto tiene un «<» que Telegram rechazaría (cerca de «1 < 2 <3»)."


async def test_staff_see_why_and_can_escape_and_parents_get_it(scene: Scene) -> None:
    staff = scene.staff
    await staff.send("/broadcast")
    await staff.press("Everyone · 5")
    await staff.send(TYPED)
    refusal = staff.last
    assert refusal.text.startswith(REASON_EN)
    assert "Tap “Escape it for me”" in refusal.text
    assert refusal.buttons == ["🛠 Escape it for me"]
    assert scene.broadcasts == [] and scene.drafts[0]["state"] == AWAITING_CONTENT

    await staff.press("Escape it for me")
    shown = staff.api.message(STAFF_ID, refusal.message_id)
    assert shown is not None and shown.buttons == []
    assert shown.text.endswith("✓ 🛠 Escape it for me")
    assert staff.last_text.startswith("✍️ Now the Spanish text")

    await staff.send(TYPED)  # the Spanish text is checked, and can be escaped, the same way
    assert staff.last_text.startswith(REASON_EN)
    mark = staff.mark()
    await staff.press("Escape it for me")
    _, preview_en, preview_es, _ = staff.new_since(mark)
    assert preview_en.text.startswith("Meeting tips: 1 < 2 <3")
    assert preview_es.text.startswith("Meeting tips: 1 < 2 <3")
    await staff.press("✅ Confirm and send")
    [row] = scene.broadcasts
    escaped = "<b>Meeting tips:</b> 1 &lt; 2 &lt;3"
    assert json.loads(row["texts"]) == {"en": escaped, "es": escaped}
    await deliver_due(scene)
    for chat_id, _, _ in PARENTS:
        [message] = received(scene, chat_id)
        assert message.text.startswith("Meeting tips: 1 < 2 <3")
    [row] = scene.broadcasts
    assert (row["sent"], row["failed"]) == (5, 0)


async def test_spanish_staff_read_the_reason_in_spanish(scene: Scene) -> None:
    staff = scene.env.client(
        chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana", language_code="es-MX"
    )
    await staff.send("/broadcast")
    await staff.press("Todos · 5")
    await staff.send(TYPED)
    assert staff.last_text.startswith(REASON_ES)
    assert "Toque «Mostrar tal cual»" in staff.last_text
    assert staff.buttons == ["🛠 Mostrar tal cual"]
    await staff.press("Mostrar tal cual")
    assert staff.last_text.startswith("✍️ Ahora el texto en español")


async def test_plain_text_with_a_less_than_goes_through_as_typed(scene: Scene) -> None:
    # Without a typed tag, Telegram's own text_html escapes it: nothing to refuse.
    await scene.staff.send("/broadcast")
    await scene.staff.press("English only · 3")
    await scene.staff.send("Meeting tips: 1 < 2 <3")
    assert scene.staff.buttons[0] == "✅ Confirm and send"


async def test_staff_can_correct_instead(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("English only · 3")
    await scene.staff.send(TYPED)
    await scene.staff.send("<b>Meeting tips:</b> 1 &lt; 2")
    assert scene.staff.buttons[0] == "✅ Confirm and send"
    await scene.staff.press("Confirm")
    assert json.loads(scene.broadcasts[0]["texts"]) == {"en": "<b>Meeting tips:</b> 1 &lt; 2"}


async def test_no_escape_button_when_escaping_would_not_help(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("English only · 3")
    await scene.staff.send("<b>Meeting tips: 1 < 2")  # also never closed
    assert scene.staff.last_text.startswith("The text has a “<” that Telegram would refuse")
    assert scene.staff.last_text.endswith("Please correct it and send the text again.")
    assert scene.staff.last.buttons == []


async def test_an_older_escape_button_does_nothing(scene: Scene) -> None:
    staff = scene.staff
    await staff.send("/broadcast")
    await staff.press("English only · 3")
    await staff.send(TYPED)
    first = staff.last.message_id
    await staff.send("<i>Other</i> a<b")
    await staff.press_on(first, "Escape it for me")
    assert staff.callback_answers[-1].text == (
        "That button is from an earlier step. It does nothing now."
    )
    assert scene.drafts[0]["state"] == AWAITING_CONTENT
    await staff.press("Escape it for me")  # the newest one escapes the newest text
    await staff.press("Confirm")
    assert json.loads(scene.broadcasts[0]["texts"]) == {"en": "<i>Other</i> a&lt;b"}


async def test_escaping_a_changed_text_returns_to_the_preview(scene: Scene) -> None:
    await compose_to_preview(scene, audience="Español only · 2")
    await scene.staff.press("✏️ Change the text")
    await scene.staff.send("<b>New:</b> 3 > 2 and 1 < 2")
    assert scene.staff.last_text.startswith("The text has a “<” that Telegram would refuse")
    await scene.staff.press("Escape it for me")
    assert "Audience: Español only, 2 parents right now." in scene.staff.last_text
    await scene.staff.press("Confirm")
    assert json.loads(scene.broadcasts[0]["texts"]) == {"es": "<b>New:</b> 3 &gt; 2 and 1 &lt; 2"}


# --- Confirm, once -----------------------------------------------------------------------------


def _restarted(scene: Scene) -> None:
    """As if the bot restarted: a redelivered update is handled again, not skipped as a copy."""
    scene.env.app.recent_updates = RecentUpdates()  # a new process remembers nothing


async def test_the_same_confirm_delivered_twice_queues_one_broadcast(scene: Scene) -> None:
    await compose_to_preview(scene)
    update = await scene.staff.press("✅ Confirm and send")
    await scene.staff.deliver(update)  # a copy while this process runs: skipped
    _restarted(scene)
    await scene.staff.deliver(update)  # after a restart: handled, and finds no draft
    assert len(scene.broadcasts) == 1 and scene.drafts == []


async def test_a_crash_between_queueing_and_deleting_the_draft_queues_nothing(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    await compose_to_preview(scene)
    drafts = scene.env.app.services.staff_compose.drafts
    real_save = drafts.save

    def crash_on_confirm(user_id: int, draft: object) -> None:
        monkeypatch.setattr(drafts, "save", real_save)  # only once
        raise RuntimeError("crash")

    monkeypatch.setattr(drafts, "save", crash_on_confirm)
    update = await scene.staff.press("✅ Confirm and send")
    assert scene.broadcasts == []  # rolled back together with the draft's deletion
    assert scene.drafts[0]["state"] == "previewing"
    _restarted(scene)
    await scene.staff.deliver(update)  # Telegram delivers the press again
    assert len(scene.broadcasts) == 1 and scene.drafts == []
    await scene.staff.deliver(update)
    assert len(scene.broadcasts) == 1
