"""Settings, read from the environment (and an optional .env) once, validated, passed in.

Nothing reads the environment at import time. A missing or malformed setting raises
SettingsError with one line naming it and saying what to put instead; the token's and the
key's values never appear in that line.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from bot.content import DEFAULT_CONTENT_DIR
from flows.schedule import QuietHours, ScheduleError, parse_weekday

_TOKEN = re.compile(r"^\d{3,12}:[A-Za-z0-9_-]{30,64}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LOG_FORMATS = ("text", "json")
# Telegram's rule for a webhook's secret_token: 1-256 of these (we ask for 16 at least).
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
# The settings whose values are secrets: never echoed, redacted from tracebacks (bot/cli.py).
SECRET_NAMES = ("TELEGRAM_BOT_TOKEN", "PSEUDONYM_KEY", "WEBHOOK_SECRET")
KEY_HELP = 'generate one with: python -c "import secrets; print(secrets.token_hex(32))"'
KEY_MIN_LENGTH = 32
KEY_MIN_DISTINCT = 10  # "aaaa…" and "0000…" are long, not random
# Telegram user ids are positive and fit in 52 bits; groups and channels are negative.
STAFF_ID_LIMIT = 2**52
PRACTICE_NAME_MAX = 80
# Shown where the welcome and booking messages name the practice, when PRACTICE_NAME is unset
# (`iep-bot chat`, tests; `run` requires the real one). A name, so that every sentence that
# uses it reads well in every language: "the helper bot of Demo Advocates, a ...", "Reserve
# una consulta con Demo Advocates."
DEMO_PRACTICE_NAME = "Demo Advocates"
# Hosts kept for examples and documentation (RFC 2606, RFC 6761): never a real booking page.
_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
_EXAMPLE_SUFFIXES = ("example", "invalid", "test", "localhost")
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
    # A check-in a parent said yes to goes this many days after the screening.
    checkin_days: int = 28
    log_level: str = "INFO"
    # As the operator typed it; escaped where it becomes Telegram HTML (bot/parent), so
    # "Smith & <Jones>" shows as typed (unescaped, Telegram would refuse every /start).
    practice_name: str = DEMO_PRACTICE_NAME
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


def raw_settings(
    env: Mapping[str, str] | None = None, *, dotenv_path: Path | None = Path(".env")
) -> dict[str, str]:
    """The values as given: `env`, else os.environ over .env (the real environment wins)."""
    if env is not None:
        return dict(env)
    values = dict(os.environ)
    if dotenv_path is not None and dotenv_path.is_file():
        from dotenv import dotenv_values

        values = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None} | values
    return values


def secret_values(values: Mapping[str, str]) -> list[str]:
    """The secrets among raw values, to redact from anything printed (longest first)."""
    found = [value.strip() for name in SECRET_NAMES if (value := values.get(name, "")).strip()]
    # The token's part after the colon is its secret, also where the colon was encoded (%3A).
    token_secret = values.get("TELEGRAM_BOT_TOKEN", "").strip().partition(":")[2]
    if len(token_secret) >= 16:
        found.append(token_secret)
    return sorted(found, key=len, reverse=True)


# --- one rule per kind of value ---------------------------------------------------------------


def _not_a_placeholder(name: str, value: str) -> None:
    """The README's example values are not settings: `<...>` and the key's generator."""
    if name == "PSEUDONYM_KEY" and (value.startswith("<") or "python -c" in value):
        raise SettingsError(
            "PSEUDONYM_KEY holds the README's command, not a key: run it and put what it prints"
            f" in .env ({KEY_HELP})"
        )
    if value.startswith("<") or "python -c" in value:
        raise SettingsError(f"{name} still holds the README's placeholder: put the real value")


def _url(name: str, value: str, *, https_only: bool) -> tuple[str, SplitResult]:
    kind = "an https:// URL" if https_only else "an http(s):// URL"
    try:
        parts = urlsplit(value)
        port = parts.port  # a port that is not a number from 0 to 65535 raises here
    except ValueError as exc:
        raise SettingsError(f"{name} must be {kind}, got {value!r} ({exc})") from None
    schemes = ("https",) if https_only else ("https", "http")
    if parts.scheme not in schemes or not parts.hostname or re.search(r"\s", value):
        raise SettingsError(f"{name} must be {kind}, got {value!r}")
    if port == 0:
        raise SettingsError(f"{name} has port 0, got {value!r}: leave the port out or fix it")
    return value.rstrip("/"), parts


def _is_example_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if any(host == d or host.endswith("." + d) for d in _EXAMPLE_DOMAINS):
        return True
    if host.rpartition(".")[2] in _EXAMPLE_SUFFIXES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _booking_url(value: str) -> str:
    """The practice's public booking page: https, and not the README's example address."""
    url, parts = _url("BOOKING_URL", value, https_only=True)
    host = parts.hostname or ""
    if _is_example_host(host) or "your-practice" in value.lower():
        raise SettingsError(
            f"BOOKING_URL still points at an example address ({host}): put the practice's real"
            " booking page (https://...), the one parents should open"
        )
    return url


def _pseudonym_key(value: str) -> bytes:
    """A long random secret; never echoed, whatever is wrong with it."""
    if len(value) < KEY_MIN_LENGTH:
        raise SettingsError(
            f"PSEUDONYM_KEY is too short: use at least {KEY_MIN_LENGTH} characters; {KEY_HELP}"
        )
    if re.search(r"[\s<>\"']", value):
        raise SettingsError(
            "PSEUDONYM_KEY has spaces, quotes or angle brackets (a copy-and-paste slip?);"
            f" {KEY_HELP}"
        )
    if len(set(value)) < KEY_MIN_DISTINCT:
        raise SettingsError(
            f"PSEUDONYM_KEY is not random (too few different characters); {KEY_HELP}"
        )
    return value.encode()


def _practice_name(value: str | None, *, required: bool) -> str:
    """The name as parents should read it: one line, printable, not too long."""
    if value is None:
        if required:
            raise SettingsError(
                "PRACTICE_NAME is not set: the practice's name, as parents should read it in the"
                " welcome (PRACTICE_NAME=Bright Path Advocacy)"
            )
        return DEMO_PRACTICE_NAME
    if len(value) > PRACTICE_NAME_MAX or any(not c.isprintable() for c in value):
        raise SettingsError(
            f"PRACTICE_NAME must be one line of at most {PRACTICE_NAME_MAX} characters"
        )
    return value


def _time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    # A folder of zones ("America") raises IsADirectoryError, an OSError.
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise SettingsError(
            f"TIMEZONE is not a known time zone, got {value!r} (use a name like America/Chicago)"
        ) from None
    return value


def _staff_ids(raw: str) -> frozenset[int]:
    """People's Telegram user ids: positive, under 2**52 (a group's id is negative)."""
    ids: set[int] = set()
    for part in (p for p in re.split(r"[,\s]+", raw) if p):
        try:
            number = int(part)
        except ValueError:
            raise SettingsError(
                f"STAFF_IDS must be Telegram user ids separated by commas, got {raw!r}"
            ) from None
        if number < 0:
            raise SettingsError(
                f"STAFF_IDS: {part} looks like a group or channel id; staff ids are people's"
                " user ids (each staff member sends /whoami to the bot to see theirs)"
            )
        if not 0 < number < STAFF_ID_LIMIT:
            raise SettingsError(
                f"STAFF_IDS: {part} is not a Telegram user id (a positive number of up to 15"
                " digits; each staff member sends /whoami to the bot to see theirs)"
            )
        ids.add(number)
    return frozenset(ids)


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
    """Build Settings from `env` (default: os.environ plus .env); raise SettingsError.

    `require_token` is `run`'s: the token, the key, the booking page and the practice's name
    must then be set.
    """
    values = raw_settings(env, dotenv_path=dotenv_path)

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        if value:
            _not_a_placeholder(name, value)
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
            f"PSEUDONYM_KEY is not set: it keys the hash that stands in for chat ids; {KEY_HELP}"
        )
    pseudonym_key = _pseudonym_key(key) if key else b""
    booking = get("BOOKING_URL")
    if booking is None and require_token:
        raise SettingsError("BOOKING_URL is not set: the consultation booking page (https://...)")
    booking_url = _booking_url(booking) if booking else None
    practice_name = _practice_name(get("PRACTICE_NAME"), required=require_token)
    level = (get("LOG_LEVEL") or "INFO").upper()
    if level not in _LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {level!r}")
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
    api_url = get("TELEGRAM_API_URL") or "https://api.telegram.org"

    return Settings(
        token=token,
        api_url=_url("TELEGRAM_API_URL", api_url, https_only=False)[0],
        database_path=Path(get("DATABASE_PATH") or "data/bot.sqlite3"),
        booking_url=booking_url,
        pseudonym_key=pseudonym_key,
        session_ttl_days=_int("SESSION_TTL_DAYS", get("SESSION_TTL_DAYS") or "14", 1, 365),
        checkin_days=_int("CHECKIN_DAYS", get("CHECKIN_DAYS") or "28", 1, 180),
        log_level=level,
        practice_name=practice_name,
        content_dir=content_dir,
        staff_ids=_staff_ids(get("STAFF_IDS") or ""),
        timezone=_time_zone(get("TIMEZONE") or "America/Chicago"),
        broadcast_rate=rate,
        telegram_rate=_int("TELEGRAM_RATE", get("TELEGRAM_RATE") or "28", 1, 1000),
        concurrent_updates=_int("CONCURRENT_UPDATES", get("CONCURRENT_UPDATES") or "16", 1, 256),
        stats_min_cell=_int("STATS_MIN_CELL", get("STATS_MIN_CELL") or "5", 1, 1000),
        quiet_hours=quiet,
        drip_weekday=drip_weekday,
        drip_hour=_int("DRIP_HOUR", get("DRIP_HOUR") or "10", 0, 23),
        webhook_url=_url("WEBHOOK_URL", webhook_url, https_only=True)[0] if webhook_url else None,
        webhook_secret=webhook_secret,
        port=_int("PORT", get("PORT") or "8080", 1, 65535),
        alert_chat_id=alert_chat_id,
        log_format=log_format,
    )
