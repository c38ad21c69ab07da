"""Settings, read from the environment (and an optional .env) once, validated, passed in.

Nothing reads the environment at import time. A missing or malformed setting raises
SettingsError with one line naming it; the token's value never appears in that line.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.content import DEFAULT_CONTENT_DIR
from flows.schedule import QuietHours, ScheduleError, parse_weekday

_TOKEN = re.compile(r"^\d{3,12}:[A-Za-z0-9_-]{30,64}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LOG_FORMATS = ("text", "json")
# Telegram's rule for a webhook's secret_token: 1-256 of these (we ask for 16 at least).
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
BOTFATHER_HELP = (
    "Create a bot with @BotFather in Telegram (send /newbot), then put the token it gives "
    "you in .env as TELEGRAM_BOT_TOKEN=... . To try the screening without Telegram now: "
    "make chat (or .venv/bin/iep-bot chat)"
)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line naming it."""


@dataclass(frozen=True)
class Settings:
    token: str | None = field(default=None, repr=False)
    api_url: str = "https://api.telegram.org"
    database_path: Path = Path("data/bot.sqlite3")
    booking_url: str | None = None
    pseudonym_key: bytes = field(default=b"", repr=False)
    session_ttl_days: int = 14
    log_level: str = "INFO"
    practice_name: str = "our advocacy practice"
    content_dir: Path = DEFAULT_CONTENT_DIR
    staff_ids: frozenset[int] = frozenset()
    timezone: str = "America/Chicago"
    broadcast_rate: float = 25.0
    telegram_rate: int = 28  # notices and broadcasts a second, bot-wide, after replies
    concurrent_updates: int = 16  # updates handled at once (never two of one chat)
    stats_min_cell: int = 5
    # Broadcasts wait out quiet hours (local wall time, may wrap midnight; start == end: off).
    quiet_hours: QuietHours = field(default_factory=lambda: QuietHours.parse("20:00-08:00"))
    drip_weekday: int | None = None  # 0 = Monday; None: no weekly tip
    drip_hour: int = 10  # local hour of the weekly tip
    # Webhook mode (bot/tg/webhook.py) when set: Telegram posts updates to this https URL.
    webhook_url: str | None = None
    # The secret Telegram sends back with every update; derived from PSEUDONYM_KEY unless set.
    webhook_secret: str | None = field(default=None, repr=False)
    port: int = 8080  # where webhook mode listens ($PORT on most platforms)
    # Where error alerts go (a staff group, say); None: to every staff member's own chat.
    alert_chat_id: int | None = None
    log_format: str = "text"  # text | json (one JSON object a line, for platforms that parse)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        """TIMEZONE as a zone (validated at load; ZoneInfo caches its instances)."""
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def webhook_secret_token(self) -> str:
        """The X-Telegram-Bot-Api-Secret-Token: WEBHOOK_SECRET, else stable and derived from
        PSEUDONYM_KEY (so a restart keeps it, and it is never the key itself)."""
        if self.webhook_secret:
            return self.webhook_secret
        return hmac.new(self.pseudonym_key, b"iep-bot webhook secret", hashlib.sha256).hexdigest()

    @property
    def bot_api_base(self) -> str:
        """Root for method calls: PTB appends the token and the method name."""
        return f"{self.api_url}/bot"

    @property
    def bot_file_base(self) -> str:
        return f"{self.api_url}/file/bot"


def _url(name: str, value: str, *, https_only: bool) -> str:
    parts = urlsplit(value)
    schemes = ("https",) if https_only else ("https", "http")
    if parts.scheme not in schemes or not parts.netloc:
        kind = "an https:// URL" if https_only else "an http(s):// URL"
        raise SettingsError(f"{name} must be {kind}, got {value!r}")
    return value.rstrip("/")


def _int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {number}")
    return number


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    require_token: bool = False,
    dotenv_path: Path | None = Path(".env"),
) -> Settings:
    """Build Settings from `env` (default: os.environ plus .env); raise SettingsError."""
    if env is None:
        values = dict(os.environ)
        if dotenv_path is not None and dotenv_path.exists():
            from dotenv import dotenv_values

            # The real environment wins over .env, as operators expect.
            values = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None} | values
    else:
        values = dict(env)

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    token = get("TELEGRAM_BOT_TOKEN")
    if token is None and require_token:
        raise SettingsError(f"TELEGRAM_BOT_TOKEN is not set. {BOTFATHER_HELP}")
    if token is not None and not _TOKEN.match(token):
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN is malformed (expected digits, a colon, then 30+ letters; "
            "copy it again from @BotFather)"
        )
    key = get("PSEUDONYM_KEY")
    if key is None and require_token:
        raise SettingsError(
            "PSEUDONYM_KEY is not set: it keys the hash that stands in for chat ids. "
            'Generate one with: python -c "import secrets; print(secrets.token_hex(32))"'
        )
    if key is not None and len(key) < 32:
        raise SettingsError("PSEUDONYM_KEY is too short: use at least 32 characters")
    booking = get("BOOKING_URL")
    if booking is None and require_token:
        raise SettingsError("BOOKING_URL is not set: the consultation booking page (https://...)")
    level = (get("LOG_LEVEL") or "INFO").upper()
    if level not in _LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {level!r}")
    tz = get("TIMEZONE") or "America/Chicago"
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"TIMEZONE is not a known time zone, got {tz!r}") from None
    staff_raw = get("STAFF_IDS") or ""
    try:
        staff = frozenset(int(part) for part in re.split(r"[,\s]+", staff_raw) if part)
    except ValueError:
        raise SettingsError(
            f"STAFF_IDS must be Telegram user ids separated by commas, got {staff_raw!r}"
        ) from None
    rate_raw = get("BROADCAST_RATE") or "25"
    try:
        rate = float(rate_raw)
    except ValueError:
        raise SettingsError(f"BROADCAST_RATE must be a number, got {rate_raw!r}") from None
    if not 0 < rate <= 1000:
        raise SettingsError(f"BROADCAST_RATE must be between 0 and 1000, got {rate_raw}")
    quiet_raw = get("QUIET_HOURS") or "20:00-08:00"
    try:
        quiet = QuietHours.parse(quiet_raw)
    except ScheduleError:
        raise SettingsError(
            f"QUIET_HOURS must look like 20:00-08:00 (or off), got {quiet_raw!r}"
        ) from None
    drip_raw = get("DRIP_WEEKDAY") or ""
    try:
        drip_weekday = parse_weekday(drip_raw)
    except ScheduleError:
        raise SettingsError(
            f"DRIP_WEEKDAY must be a weekday like tue (empty: no weekly tip), got {drip_raw!r}"
        ) from None
    webhook_secret = get("WEBHOOK_SECRET")
    if webhook_secret is not None and not _WEBHOOK_SECRET.match(webhook_secret):
        raise SettingsError(
            "WEBHOOK_SECRET must be 16 to 256 letters, digits, _ or - (or leave it unset: one"
            " is derived from PSEUDONYM_KEY)"
        )
    webhook_url = get("WEBHOOK_URL")
    alert_raw = get("ALERT_CHAT_ID")
    alert_chat_id = None
    if alert_raw is not None:
        alert_chat_id = _int("ALERT_CHAT_ID", alert_raw, -(10**15), 10**15)
        if alert_chat_id == 0:
            raise SettingsError("ALERT_CHAT_ID must be a chat id (a group's starts with -100)")
    log_format = (get("LOG_FORMAT") or "text").lower()
    if log_format not in _LOG_FORMATS:
        raise SettingsError(f"LOG_FORMAT must be text or json, got {log_format!r}")
    content_dir = Path(get("CONTENT_DIR") or DEFAULT_CONTENT_DIR)
    if not content_dir.is_dir():
        raise SettingsError(f"CONTENT_DIR is not a folder: {content_dir}")

    return Settings(
        token=token,
        api_url=_url(
            "TELEGRAM_API_URL",
            get("TELEGRAM_API_URL") or "https://api.telegram.org",
            https_only=False,
        ),
        database_path=Path(get("DATABASE_PATH") or "data/bot.sqlite3"),
        booking_url=_url("BOOKING_URL", booking, https_only=True) if booking else None,
        pseudonym_key=(key or "").encode(),
        session_ttl_days=_int("SESSION_TTL_DAYS", get("SESSION_TTL_DAYS") or "14", 1, 365),
        log_level=level,
        practice_name=get("PRACTICE_NAME") or "our advocacy practice",
        content_dir=content_dir,
        staff_ids=staff,
        timezone=tz,
        broadcast_rate=rate,
        telegram_rate=_int("TELEGRAM_RATE", get("TELEGRAM_RATE") or "28", 1, 1000),
        concurrent_updates=_int("CONCURRENT_UPDATES", get("CONCURRENT_UPDATES") or "16", 1, 256),
        stats_min_cell=_int("STATS_MIN_CELL", get("STATS_MIN_CELL") or "5", 1, 1000),
        quiet_hours=quiet,
        drip_weekday=drip_weekday,
        drip_hour=_int("DRIP_HOUR", get("DRIP_HOUR") or "10", 0, 23),
        webhook_url=_url("WEBHOOK_URL", webhook_url, https_only=True) if webhook_url else None,
        webhook_secret=webhook_secret,
        port=_int("PORT", get("PORT") or "8080", 1, 65535),
        alert_chat_id=alert_chat_id,
        log_format=log_format,
    )
