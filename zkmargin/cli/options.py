"""Options shared by several commands (declared once)."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import click

from zkmargin.bundle import Backend, Verifier
from zkmargin.methodology import DEFAULT_METHODOLOGY
from zkmargin.profiles import PROFILES

profile_option = click.option(
    "--profile", default="small", show_default=True, envvar="ZKMARGIN_PROFILE",
    type=click.Choice(sorted(PROFILES)),
    help="Circuit size profile (position slots, scenarios, tree depth...). [env var: ZKMARGIN_PROFILE]")
methodology_option = click.option(
    "--methodology", "--preset", "methodology", default=DEFAULT_METHODOLOGY, show_default=True,
    help="Methodology of the snapshot: a preset (span16, span, deribit, derive-pmrm2) or a .toml / .json file "
         "(zkmargin schema methodology).")
threshold_option = click.option(
    "--threshold", "threshold_bps", default=10_000, show_default=True, type=click.IntRange(0, 2**20 - 1),
    help="Claimed health in bps of MM: 10000 means equity >= 1.00 x MM.")
MODELS = ("portfolio", "cross", "isolated")
"""The margin models, each with its circuit: the only values ``--model`` takes."""
model_option = click.option(
    "--model", default="portfolio", show_default=True, type=click.Choice(MODELS),
    help="Margin model of the circuit.")
ptau_option = click.option(
    "--ptau", type=click.Path(dir_okay=False, path_type=Path), envvar="ZKMARGIN_PTAU",
    help="Prepared powers-of-tau file (a public ceremony file in production). Without one, an "
         "INSECURE dev file is generated and cached. [env var: ZKMARGIN_PTAU]")
backend_option = click.option(
    "--backend", default="snarkjs", show_default=True, envvar="ZKMARGIN_BACKEND",
    type=click.Choice(get_args(Backend)),
    help="Groth16 prover: snarkjs (Node, the reference) or native (arkworks through groth16py, "
         "pip install '.[native]'); both use the same zkey. [env var: ZKMARGIN_BACKEND]")
ray_option = click.option(
    "--ray", "ray_address", metavar="auto|ADDRESS",
    help="Prove on a Ray cluster: 'auto' (the one running here) or its address (HOST:PORT, ray://HOST:PORT); "
         "needs pip install 'zkmargin[cluster]'.")
verifier_option = click.option(
    "--backend", "verifier", default="py_ecc", show_default=True, type=click.Choice(get_args(Verifier)),
    help="Groth16 verifier: py_ecc (pure Python), native (arkworks through groth16py) or snarkjs (Node).")
