"""Settings fail early with one clear line; secrets never reach a log line."""

from __future__ import annotations

import dataclasses
import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import DEMO_PRACTICE_NAME, Settings, SettingsError, load_settings
from bot.content import Content
from bot.logs import RedactSecrets, configure_logging
from tests.botenv import BotEnv
from tests.clock import FakeClock

TOKEN = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # 32 characters, 16 different ones
GOOD = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "PSEUDONYM_KEY": KEY,
    "BOOKING_URL": "https://book.brightpath-advocacy.com/c",
    "PRACTICE_NAME": "Bright Path Advocacy",
}
# The .env the README shows, pasted as it is (a real-looking token in place of its "AA...").
README_ENV = GOOD | {
    "PSEUDONYM_KEY": '<python -c "import secrets; print(secrets.token_hex(32))">',
    "BOOKING_URL": "https://your-practice.example/book",
}


def test_good_settings_load_with_defaults() -> None:
    s = load_settings(GOOD, require_token=True)
    assert s.session_ttl_days == 14
    assert s.api_url == "https://api.telegram.org"
    assert s.bot_api_base == "https://api.telegram.org/bot"
    assert s.database_path == Path("data/bot.sqlite3")
    assert TOKEN not in repr(s)


def test_own_bot_api_server_url_is_used_for_methods_and_files() -> None:
    s = load_settings(GOOD | {"TELEGRAM_API_URL": "http://127.0.0.1:8081/"})
    assert s.bot_api_base == "http://127.0.0.1:8081/bot"
    assert s.bot_file_base == "http://127.0.0.1:8081/file/bot"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"TELEGRAM_BOT_TOKEN": ""}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "123:short"}, "TELEGRAM_BOT_TOKEN is malformed"),
        ({"PSEUDONYM_KEY": ""}, "PSEUDONYM_KEY is not set"),
        ({"PSEUDONYM_KEY": "short"}, "PSEUDONYM_KEY is too short"),
        ({"BOOKING_URL": "book.brightpath-advocacy.com"}, "BOOKING_URL must be an https:// URL"),
        ({"BOOKING_URL": "http://brightpath-advocacy.com/book"}, "BOOKING_URL must be an https"),
        ({"BOOKING_URL": ""}, "BOOKING_URL is not set"),
        ({"PRACTICE_NAME": ""}, "PRACTICE_NAME is not set"),
        ({"PRACTICE_NAME": "x" * 81}, "PRACTICE_NAME must be one line of at most 80"),
        ({"PRACTICE_NAME": "Smith\tJones"}, "PRACTICE_NAME must be one line"),
        ({"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL must be"),
        ({"SESSION_TTL_DAYS": "two weeks"}, "SESSION_TTL_DAYS must be a whole number"),
        ({"SESSION_TTL_DAYS": "0"}, "SESSION_TTL_DAYS must be between"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be text or json"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE is not a known time zone"),
        ({"STAFF_IDS": "12, bob"}, "STAFF_IDS must be"),
        ({"BROADCAST_RATE": "fast"}, "BROADCAST_RATE must be a number"),
        ({"WEBHOOK_SECRET": "short"}, "WEBHOOK_SECRET must be 16 to 256 letters"),
        ({"WEBHOOK_SECRET": "has spaces in it, see"}, "WEBHOOK_SECRET must be 16 to 256"),
        (
            {"WEBHOOK_URL": "http://bot.brightpath-advocacy.com/hook"},
            "WEBHOOK_URL must be an https",
        ),
        ({"PORT": "0"}, "PORT must be between 1 and 65535"),
        ({"PORT": "65536"}, "PORT must be between 1 and 65535"),
        ({"PORT": "http"}, "PORT must be a whole number"),
        ({"ALERT_CHAT_ID": "0"}, "ALERT_CHAT_ID must be a chat id"),
        ({"ALERT_CHAT_ID": "-100abc"}, "ALERT_CHAT_ID must be a whole number"),
        ({"ALERT_CHAT_ID": "1" * 17}, "ALERT_CHAT_ID must be between"),
    ],
)
def test_a_bad_setting_is_named_in_one_line(change: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(GOOD | change, require_token=True)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message
    assert TOKEN.split(":")[1] not in message
    assert KEY not in message


def test_the_newer_settings_load() -> None:
    s = load_settings(
        GOOD
        | {
            "WEBHOOK_URL": "https://bot.brightpath-advocacy.com/hook/",
            "WEBHOOK_SECRET": "s3cret_-" * 4,
            "PORT": "443",
            "ALERT_CHAT_ID": "-1001234567890",
            "LOG_FORMAT": "JSON",
        }
    )
    assert s.webhook_url == "https://bot.brightpath-advocacy.com/hook"
    assert s.webhook_secret_token == "s3cret_-" * 4
    assert (s.port, s.alert_chat_id, s.log_format) == (443, -1001234567890, "json")
    assert "s3cret" not in repr(s)


def test_defaults_of_the_newer_settings() -> None:
    s = load_settings(GOOD)
    assert (s.webhook_url, s.webhook_secret, s.port, s.alert_chat_id) == (None, None, 8080, None)
    assert s.log_format == "text"
    # Derived from the key: stable across restarts, and never the key itself.
    assert s.webhook_secret_token == load_settings(GOOD).webhook_secret_token
    assert KEY not in s.webhook_secret_token and len(s.webhook_secret_token) == 64


# --- the README's example values are not settings ------------------------------------------


def test_the_readmes_env_pasted_as_it_is_is_refused_without_echoing_the_key() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(README_ENV, require_token=True)
    message = str(caught.value)
    assert message.startswith("PSEUDONYM_KEY holds the README's command, not a key")
    assert "import secrets" in message  # how to make one
    with pytest.raises(SettingsError, match="BOOKING_URL still points at an example address"):
        load_settings(README_ENV | {"PSEUDONYM_KEY": KEY}, require_token=True)


def test_the_env_block_of_the_readme_as_it_stands_never_runs() -> None:
    from dotenv import dotenv_values

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("create `.env`", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    pasted = {k: v for k, v in dotenv_values(stream=io.StringIO(block)).items() if v is not None}
    assert {"PSEUDONYM_KEY", "BOOKING_URL", "PRACTICE_NAME"} <= pasted.keys()
    pasted["TELEGRAM_BOT_TOKEN"] = TOKEN  # a well-formed token: the rest must still be refused
    with pytest.raises(SettingsError):
        load_settings(pasted, require_token=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://your-practice.example/book",
        "https://example.com/book",
        "https://www.example.org/book",
        "https://booking.example.net/",
        "https://EXAMPLE.COM./book",
        "https://book.practice.invalid/",
        "https://book.practice.test/",
        "https://localhost/book",
        "https://book.localhost:8443/",
        "https://127.0.0.1/book",
        "https://[::1]/book",
        "https://calendly.com/your-practice/consult",
    ],
)
def test_booking_url_must_not_be_an_example_address(url: str) -> None:
    with pytest.raises(SettingsError, match="BOOKING_URL still points at an example address"):
        load_settings(GOOD | {"BOOKING_URL": url})


@pytest.mark.parametrize(
    "url",
    ["https://calendly.com/bright-path/consult", "https://examples.com/x", "https://myexample.org"],
)
def test_a_real_booking_page_is_kept(url: str) -> None:
    assert load_settings(GOOD | {"BOOKING_URL": url}).booking_url == url


def test_the_bot_api_url_may_be_local_http() -> None:
    # Operators run their own Bot API server; the tests point it at 127.0.0.1.
    s = load_settings(GOOD | {"TELEGRAM_API_URL": "http://localhost:8081"})
    assert s.api_url == "http://localhost:8081"


@pytest.mark.parametrize("name", ["BOOKING_URL", "TELEGRAM_API_URL", "WEBHOOK_URL", "STAFF_IDS"])
@pytest.mark.parametrize("value", ["<your booking page>", "$(python -c 'print(1)')"])
def test_a_readme_placeholder_is_refused_in_any_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(GOOD | {name: value})
    assert str(caught.value).startswith(name)


@pytest.mark.parametrize(
    ("name", "url"),
    [
        (name, url)
        for name in ("BOOKING_URL", "TELEGRAM_API_URL", "WEBHOOK_URL")
        for url in (
            "https://[::1",
            "http://[bad]/",
            "https://h.org:99999/",
            "https://h.org:port/",
            "https://h.org:0/",
            "https://",
            "https://two words.org/",
        )
    ],
)
def test_a_malformed_url_is_named_in_one_line(name: str, url: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(GOOD | {name: url})
    message = str(caught.value)
    assert message.startswith(name) and "\n" not in message


# --- the key, the staff, the time zone ------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ("a" * 64, "PSEUDONYM_KEY is not random"),
        ("0" * 40, "PSEUDONYM_KEY is not random"),
        ("0123456780123456780123456780123", "PSEUDONYM_KEY is too short"),
        ("012345678901234567890123456789 abc", "PSEUDONYM_KEY has spaces, quotes"),
        ('"0f1e2d3c4b5a69788796a5b4c3d2e1f0"x', "PSEUDONYM_KEY has spaces, quotes"),
    ],
)
def test_a_weak_key_is_refused_and_never_echoed(key: str, said: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(GOOD | {"PSEUDONYM_KEY": key})
    message = str(caught.value)
    assert message.startswith(said) and key not in message
    assert 'python -c "import secrets; print(secrets.token_hex(32))"' in message


def test_a_generated_key_is_accepted() -> None:
    import secrets

    assert load_settings(GOOD | {"PSEUDONYM_KEY": secrets.token_hex(32)}).pseudonym_key


@pytest.mark.parametrize(
    ("ids", "said"),
    [
        ("-1001234567890", "STAFF_IDS: -1001234567890 looks like a group or channel id"),
        ("12, -42", "STAFF_IDS: -42 looks like a group or channel id"),
        ("1" * 23, "is not a Telegram user id"),
        (str(2**52), "is not a Telegram user id"),
        ("0", "STAFF_IDS: 0 is not a Telegram user id"),
    ],
)
def test_staff_ids_are_peoples_user_ids(ids: str, said: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(GOOD | {"STAFF_IDS": ids})
    assert said in str(caught.value) and "/whoami" in str(caught.value)


def test_staff_ids_read_as_numbers() -> None:
    s = load_settings(GOOD | {"STAFF_IDS": "777, 8123456789 12"})
    assert s.staff_ids == frozenset({777, 8123456789, 12})
    assert load_settings(GOOD | {"STAFF_IDS": str(2**52 - 1)}).staff_ids == {2**52 - 1}


@pytest.mark.parametrize("zone", ["America", "../x", "America/", "Etc/../UTC", "/etc/localtime"])
def test_an_odd_time_zone_is_one_line(zone: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(GOOD | {"TIMEZONE": zone})
    assert str(caught.value) == (
        f"TIMEZONE is not a known time zone, got {zone!r} (use a name like America/Chicago)"
    )


def test_an_empty_time_zone_is_the_default() -> None:
    assert load_settings(GOOD | {"TIMEZONE": "  "}).timezone == "America/Chicago"


# --- the practice's name -------------------------------------------------------------------


def test_the_practice_name_is_required_to_run_and_has_a_neutral_default_otherwise() -> None:
    without = {k: v for k, v in GOOD.items() if k != "PRACTICE_NAME"}
    with pytest.raises(SettingsError, match=r"^PRACTICE_NAME is not set"):
        load_settings(without, require_token=True)
    assert load_settings(without).practice_name == DEMO_PRACTICE_NAME == Settings().practice_name


def test_the_default_name_reads_well_in_every_sentence_that_names_the_practice(
    content: Content,
) -> None:
    sentences = [
        content.pack(lang).t(key, practice=DEMO_PRACTICE_NAME)
        for lang in content.languages
        for key in ("welcome", "book_intro")
    ]
    first_lines = [text.splitlines()[0] for text in sentences]
    assert first_lines == [
        "Hi! I am the helper bot of <b>Demo Advocates</b>, a special-education advocacy practice.",
        "Book a consultation with Demo Advocates. We can review a plan or an evaluation, and help"
        " you prepare for a meeting.",
        "¡Hola! Soy el asistente de <b>Demo Advocates</b>, un servicio de defensoría para familias"
        " en educación especial.",
        "Reserve una consulta con Demo Advocates. Podemos revisar un plan o una evaluación, y"
        " ayudarle a preparar una reunión.",
    ]


async def test_a_practice_name_with_html_characters_shows_as_typed(
    settings: Settings, content: Content, clock: FakeClock
) -> None:
    loaded = load_settings(GOOD | {"PRACTICE_NAME": "Smith & <Jones>"})
    assert loaded.practice_name == "Smith & <Jones>"  # as typed; escaped where it becomes HTML
    env = await BotEnv(
        dataclasses.replace(settings, practice_name=loaded.practice_name), content, clock
    ).start()
    try:
        maria = env.client()
        await maria.send("/start")  # the fake Bot API parses HTML as Telegram does
        assert "the helper bot of Smith & <Jones>, a special-education" in maria.last_text
        await maria.press("Book a consult")
        assert maria.last_text.startswith("Book a consultation with Smith & <Jones>.")
    finally:
        await env.stop()


def test_malformed_token_is_not_echoed() -> None:
    secret = "123:not valid because of spaces still-secret"
    with pytest.raises(SettingsError) as caught:
        load_settings(GOOD | {"TELEGRAM_BOT_TOKEN": secret}, require_token=True)
    assert "still-secret" not in str(caught.value)


def test_environment_wins_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("SESSION_TTL_DAYS=3\nLOG_LEVEL=DEBUG\n")
    monkeypatch.setenv("SESSION_TTL_DAYS", "5")
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    s = load_settings(dotenv_path=dotenv)
    assert s.session_ttl_days == 5 and s.log_level == "DEBUG"


def test_secrets_are_redacted_from_messages_and_tracebacks() -> None:
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "calling %s", (f"/bot{TOKEN}/getMe",), None
    )
    try:
        raise RuntimeError(f"boom at https://api.telegram.org/bot{TOKEN}/getMe")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    RedactSecrets([TOKEN]).filter(record)
    assert TOKEN not in record.getMessage()
    assert "[redacted]" in record.getMessage()


def test_configured_logging_hides_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", secrets=[TOKEN])
    logging.getLogger("telegram.ext").warning("request to /bot%s/getUpdates failed", TOKEN)
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/x", TOKEN)
    err = capsys.readouterr().err
    assert TOKEN not in err and "[redacted]" in err
    logging.getLogger().handlers.clear()


def test_run_without_a_token_explains_botfather_and_chat(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "DATABASE_PATH": str(tmp_path / "db.sqlite3")},
        check=False,
    )
    assert result.returncode == 2
    assert "@BotFather" in result.stderr and "iep-bot chat" in result.stderr
    assert "Traceback" not in result.stderr
