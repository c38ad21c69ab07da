"""python -m bot -> the iep-bot command line."""

from bot.cli import main

raise SystemExit(main())
