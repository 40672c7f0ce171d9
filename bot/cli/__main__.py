"""`python -m bot.cli …` is the `yishiting` command."""

from . import main

main()
