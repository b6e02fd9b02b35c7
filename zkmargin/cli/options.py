"""Options shared by several commands (declared once)."""

from __future__ import annotations

import click

from zkmargin.profiles import PROFILES

profile_option = click.option(
    "--profile", default="small", show_default=True, envvar="ZKMARGIN_PROFILE",
    type=click.Choice(sorted(PROFILES)),
    help="Circuit size profile (position slots, scenarios, tree depth...). [env var: ZKMARGIN_PROFILE]")
threshold_option = click.option(
    "--threshold", "threshold_bps", default=10_000, show_default=True, type=click.IntRange(0, 2**20 - 1),
    help="Claimed health in bps of MM: 10000 means equity >= 1.00 x MM.")
