"""``zkmargin serve``: the verification service (FastAPI + uvicorn) over SQLite or PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import click

from zkmargin.circuitgen import MODELS

File = click.Path(dir_okay=False, exists=True, path_type=Path)


@click.command("serve", short_help="Run the verification service: proofs in, margin status out.")
@click.option("--db", default="sqlite:///zkmargin.db", show_default=True, envvar="ZKMARGIN_DB",
              help="Database URL: a SQLite file, or postgresql://user:pass@host/db. [env var: ZKMARGIN_DB]")
@click.option("--venue-key", "venue_key", required=True, help="The venue's Ed25519 public key: hex, or a file holding it.")
@click.option("--vk", "vks", multiple=True, required=True, type=File,
              help="Trusted verification_key.json (repeatable); proofs are matched by key fingerprint.")
@click.option("--model", required=True, type=click.Choice(sorted(MODELS)), help="Margin model the policy requires.")
@click.option("--holders", required=True, type=File,
              help="JSON {holder: minimum threshold in bps of MM}: the registered holders.")
@click.option("--window", default=3600.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds holders have to prove after an epoch is posted (then: late).")
@click.option("--backend", type=click.Choice(["native", "py_ecc"]),
              help="Groth16 pairing: native (groth16py) when installed, else py_ecc. Never Node.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option("--rate", default=50.0, show_default=True, type=click.FloatRange(min=0),
              help="Requests per second per client address (0: no limit).")
@click.option("--burst", default=100, show_default=True, type=click.IntRange(min=1),
              help="Requests a client may send at once before the rate applies.")
def command(db: str, venue_key: str, vks: tuple[Path, ...], model: str, holders: Path, window: float,
            backend: str | None, host: str, port: int, rate: float, burst: int) -> None:
    """Serve the API (docs at /docs) and the dashboard (/); writes need the key in $ZKMARGIN_API_KEY."""
    import uvicorn

    from zkmargin.errors import InputError
    from zkmargin.service.app import create_app
    from zkmargin.service.policy import ServiceConfig, default_backend, load_registry
    from zkmargin.service.store import Store, connect
    from zkmargin.venue import load_public_key

    api_key = os.environ.get("ZKMARGIN_API_KEY")
    if not api_key:
        raise InputError("set ZKMARGIN_API_KEY to the write key (at least 16 characters; e.g. openssl rand -hex 16)")
    config = ServiceConfig.build(load_public_key(venue_key), list(vks), model, load_registry(holders), window,
                                 backend or default_backend())  # type: ignore[arg-type]
    app = create_app(config, Store(connect(db)), api_key, rate, burst)
    click.echo(f"zkmargin serve: {len(config.keys)} key(s), {len(config.registry)} holder(s), {config.backend} "
               f"pairing, database {db.split('@')[-1]}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
