"""Only staff can compose: for anyone else the staff commands and buttons do not exist."""

from __future__ import annotations

from bot.callbacks import Action
from bot.config import Settings
from bot.content import Content
from bot.tg.app import PARENT_COMMANDS, STAFF_COMMANDS
from flows.compose import AWAITING_CONTENT, PREVIEWING
from tests.clock import FakeClock
from tests.conftest import STAFF_ID
from tests.fakebot import CallbackAnswer, ChatClient
from tests.staff import Scene, make_scene, reach


async def _unknown_command_reply(client: ChatClient) -> list[tuple[str, list[str]]]:
    mark = client.mark()
    await client.send("/frobnicate")
    return [(m.text, m.buttons) for m in client.new_since(mark)]


async def test_non_staff_get_only_the_unknown_command_reply(scene: Scene) -> None:
    parent = scene.parent
    expected = await _unknown_command_reply(parent)
    assert expected[0][0].startswith("I don't know that command.")
    for command in ("/broadcast", "/tips", "/cancel", "/broadcast@iep_test_bot"):
        mark = parent.mark()
        await parent.send(command)
        assert [(m.text, m.buttons) for m in parent.new_since(mark)] == expected, command
    # A parent's text afterwards is a parent's text: no draft was opened for them.
    assert scene.drafts == []


async def test_non_staff_pressing_staff_buttons_get_only_the_unknown_command_reply(
    scene: Scene,
) -> None:
    # A real staff draft exists, so its genuine signed buttons are live.
    await reach(scene, "preview")
    draft = scene.draft_id()
    parent = scene.parent
    expected = await _unknown_command_reply(parent)
    genuine = [
        scene.encode(Action("C", (draft, op, *extra)))
        for op, *extra in [("ok",), ("now",), ("x",), ("a", "all"), ("t",), ("e",), ("w",), ("u",)]
    ] + [scene.encode(Action("Y", args)) for args in [("p", "1"), ("n", "iee"), ("s", "iee")]]
    forged = ["1|C|abcdef|ok|AAAAAA", "1|Y|n|iee|zzzzzz", "2|C|x|y", "1|Y|"]
    for data in genuine + forged:
        mark = parent.mark()
        await parent.press_data(data)
        assert [(m.text, m.buttons) for m in parent.new_since(mark)] == expected, data
        assert parent.callback_answers[-1] == CallbackAnswer(None, False, None), data
    assert scene.broadcasts == []
    assert [row["state"] for row in scene.drafts] == [PREVIEWING]  # staff's draft untouched


async def test_a_parent_is_never_caught_by_a_staff_draft(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Everyone · 5")  # the draft waits for a text now
    await scene.parent.send("hello")
    assert scene.parent.last_text == "What would you like to do?"
    assert scene.drafts[0]["state"] == AWAITING_CONTENT


async def test_staff_command_menu_only_in_staff_chats(scene: Scene, content: Content) -> None:
    api = scene.env.api
    await scene.env.app.post_init(scene.env.app)
    staff_menu = [c["command"] for c in api.my_commands[(f"chat:{STAFF_ID}", "")]]
    assert staff_menu == [*PARENT_COMMANDS, *STAFF_COMMANDS]
    assert {"broadcast", "tips", "cancel"} <= set(STAFF_COMMANDS)
    spanish = {c["command"]: c["description"] for c in api.my_commands[(f"chat:{STAFF_ID}", "es")]}
    assert spanish["broadcast"] == content.pack("es").t("staff.commands.broadcast")
    for key, commands in api.my_commands.items():
        if key[0] == "default":
            assert not {c["command"] for c in commands} & set(STAFF_COMMANDS), key


async def test_a_staff_member_who_never_opened_the_bot_does_not_stop_start_up(
    settings: Settings, content: Content, clock: FakeClock
) -> None:
    scene = await make_scene(settings, content, clock, staff_ids=frozenset({STAFF_ID, 31337}))
    try:
        from bot.tg.app import set_staff_commands

        api = scene.env.api
        api.fail("setMyCommands", 400, description="Bad Request: chat not found", times=1)
        await set_staff_commands(scene.env.app)  # what post_init runs after the parent menus
        assert (f"chat:{STAFF_ID}", "") not in api.my_commands  # 777 sorts first: it failed
        assert ("chat:31337", "") in api.my_commands
        assert ("chat:31337", "es") in api.my_commands
    finally:
        await scene.env.stop()
