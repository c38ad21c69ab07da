"""Settings fail early with one clear line; secrets never reach a log line."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings
from bot.logs import RedactSecrets, configure_logging

TOKEN = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
GOOD = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "PSEUDONYM_KEY": "k" * 32,
    "BOOKING_URL": "https://book.example.org/c",
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
        ({"BOOKING_URL": "book.example.org"}, "BOOKING_URL must be an https:// URL"),
        ({"BOOKING_URL": ""}, "BOOKING_URL is not set"),
        ({"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL must be"),
        ({"SESSION_TTL_DAYS": "two weeks"}, "SESSION_TTL_DAYS must be a whole number"),
        ({"SESSION_TTL_DAYS": "0"}, "SESSION_TTL_DAYS must be between"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE is not a known time zone"),
        ({"STAFF_IDS": "12, bob"}, "STAFF_IDS must be"),
        ({"BROADCAST_RATE": "fast"}, "BROADCAST_RATE must be a number"),
    ],
)
def test_a_bad_setting_is_named_in_one_line(change: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(GOOD | change, require_token=True)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message
    assert TOKEN.split(":")[1] not in message


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
