"""A fake Telegram Bot API at PTB's HTTP transport seam, and a `ChatClient` that plays a user.

Tests drive the *real* `telegram.ext.Application` with *real* `telegram.Update` objects; only
the HTTP hop to api.telegram.org is replaced. Plug it in like this::

    api = FakeBotAPI()
    app = ApplicationBuilder().token("999:TEST").request(api).get_updates_request(api).build()
    await app.initialize()                  # calls getMe on the fake; do NOT start polling
    client = ChatClient(app, api)           # Maria, private chat 4242
    await client.send("/start campaign_1")  # -> app.process_update(real Update)
    assert client.last_text == "Welcome!"   # what her phone shows now
    await client.press("Yes")
    await app.shutdown()

One `FakeBotAPI` may fill both request slots: PTB keeps them as two references and merely calls
`initialize()`/`shutdown()` on each (so those are no-ops here). A custom `base_url` works too;
the Bot API method is the last path segment of the URL.

Behaviour worth knowing:

* Answers are what Telegram answers, so PTB raises its real exceptions: 400 -> `BadRequest`,
  403 -> `Forbidden`, 429 -> `RetryAfter`, 5xx and injected network faults -> `NetworkError`.
  `Application.process_update` hands handler exceptions to the error handlers (or logs them);
  it does not re-raise, so assert through an error handler or through what the user sees.
* `parse_mode="HTML"` is parsed like Telegram does (unsupported or unbalanced tags are a 400);
  stored and returned text is the *visible* text plus entities. Markdown modes are not parsed.
* `editMessageText` without `reply_markup` removes the inline keyboard, as on Telegram.
* Only inline keyboards are kept on messages; other reply markups are visible in `api.calls`.
* Every callback query must be answered at most once; unknown or re-answered ids are a 400.
* Uploaded files are kept on the message as sent: `photo` for sendPhoto, `document` with its
  `document_filename` and `document_mime_type` for sendDocument (the caption is `text`).
"""

from __future__ import annotations

from tests.fakebot.api import (
    BOT_USER,
    Button,
    Call,
    CallbackAnswer,
    FakeBotAPI,
    SentMessage,
    Upload,
)
from tests.fakebot.client import ChatClient
from tests.fakebot.common import JSON
from tests.fakebot.html import EntityParseError, parse_html

__all__ = [
    "BOT_USER",
    "JSON",
    "Button",
    "Call",
    "CallbackAnswer",
    "ChatClient",
    "EntityParseError",
    "FakeBotAPI",
    "SentMessage",
    "Upload",
    "parse_html",
]
