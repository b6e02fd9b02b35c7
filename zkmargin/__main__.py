"""``python -m zkmargin`` = the ``zkmargin`` command."""

from zkmargin.cli import main

main()
