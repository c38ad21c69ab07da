"""`iep-bot db ...`: the database's own commands."""

from __future__ import annotations

import click

from bot.wiring import open_settings

CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=CONTEXT)
def db() -> None:
    """Database commands.

    Example:

    \b
        iep-bot db migrate
    """


@db.command()
def migrate() -> None:
    """Bring the database schema up to date.

    Example:

    \b
        DATABASE_PATH=/data/bot.sqlite3 iep-bot db migrate
    """
    from bot.storage import Storage

    settings = open_settings()
    storage = Storage(settings.database_path)
    applied = storage.migrate()
    click.echo(
        f"{settings.database_path}: "
        + (f"applied {', '.join(applied)}" if applied else "up to date")
    )
    storage.close()
