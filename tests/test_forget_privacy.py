"""/forget leaves nothing of the chat: the whole database, dumped, holds no trace of it."""

from __future__ import annotations

from tests.botenv import BotEnv
from tests.parents import TO_IEP_EVALUATION, finish

CHAT = 987_654_321_013  # distinctive: found in a dump only if stored
PAYLOAD = "Jayden-5551234"  # one word, as a deep link carries: typed, not a listed source
TIP = "<b>Tip</b>: keep a simple log, with dates."


async def test_after_forget_the_database_holds_nothing_of_the_chat(env: BotEnv) -> None:
    maria = env.client(chat_id=CHAT, user_id=CHAT)
    await finish(maria, TO_IEP_EVALUATION, PAYLOAD)
    await maria.send("/language")
    await maria.press("English")
    await maria.send("/subscribe")
    await maria.press("Yes, send me tips")
    await maria.press("My child has a 504 plan")
    broadcasts = env.app.services.broadcasts
    sent = broadcasts.queue(audience="all", texts={"*": TIP}, created_by=None, origin="cli")
    await env.engine(rate=1000).work()
    assert TIP.replace("<b>", "").replace("</b>", "") in maria.last_text
    running = broadcasts.queue(audience="all", texts={"*": TIP}, created_by=None, origin="cli")
    broadcasts.start(running)  # her delivery is pending
    await maria.send("/restart")  # and a screening is under way
    await maria.press("In kindergarten or older")
    key = env.app.services.pseudonymize(CHAT)
    assert key in env.dump() and str(CHAT) in env.dump() and PAYLOAD not in env.dump()

    await maria.send("/forget")
    assert "Done." in maria.last_text

    row = broadcasts.get(running)
    assert row is not None and (row.status, row.total, row.skipped, row.remaining) == (
        "sending",
        1,
        1,
        0,
    )
    await env.engine(rate=1000).work()  # nothing more goes to her
    assert "Done." in maria.last_text
    done, audit = broadcasts.get(running), broadcasts.get(sent)
    assert done is not None and (done.status, done.sent, done.skipped) == ("done", 0, 1)
    assert audit is not None and (audit.total, audit.sent) == (1, 1)  # the record stays right
    everything = env.dump()
    for trace in (str(CHAT), key, PAYLOAD, "5551234", "Jayden", "maria_p"):
        assert trace not in everything, trace
    # What stays is anonymous by construction: the finished screening, under source "other".
    [outcome] = [r for r in env.rows("outcomes") if r["status"] == "completed"]
    assert outcome["source"] == "other"
    assert len(env.rows("deliveries")) == 2  # the audit keeps its rows, linked to no one
