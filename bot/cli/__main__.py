"""`python -m neuroladder.bot.cli`: the same as the `neuroladder` command."""

from .main import main

raise SystemExit(main())
