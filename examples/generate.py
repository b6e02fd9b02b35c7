"""Regenerate the example snapshots and accounts from ``examples/market.json``.

Run ``python examples/generate.py`` with zkmargin importable (``pip install -e .``, or
``PYTHONPATH=. python examples/generate.py`` from the repository root). The output is a pure
function of market.json and the tables below: running it twice changes nothing (files whose text
is unchanged are not rewritten). ``ledger.jsonl`` is the example venue's ledger: every account
below with an account id (its name) and a holder address derived from the name (SHA-256), so the
examples are reproducible; a venue derives the salts when it publishes an epoch.

Accounts (positions by symbol here, by instrument id in the files; balances by asset symbol):

* ``hedged_market_maker``: sold 30-day ATM calls, bought the 105k calls and the 85k puts against
  them, delta-hedged with the 30-day future (its requirement is the short-option minimum).
* ``naked_short_calls``: short 7-day 100k BTC calls, nothing against them.
* ``delta_neutral_straddle``: short 30-day ATM ETH straddles, delta-hedged with the ETH perp.
* ``futures_basis_trade``: long spot BTC, short the 90-day future (cash and carry).
* ``insolvent``: a leveraged long ETH perp plus short puts on little cash: far below MM.
* ``borrowed_cash``: 3 BTC bought partly with borrowed USDC (a debt: a negative balance), the BTC
  price risk hedged with a short future.
* ``large/hedged_market_maker_16``: a 16-position BTC and ETH options book for the ``standard``
  profile.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from zkmargin.io import write_atomic
from zkmargin.market import Market, load_market
from zkmargin.models import Account, Balance, LedgerEntry, Position
from zkmargin.snapshot_builder import build_snapshot

EXAMPLES = Path(__file__).resolve().parent
PRESETS = ("span16", "deribit")

#: name -> (positions {symbol: quantity}, balances {asset symbol: amount}), decimal strings.
ACCOUNTS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "hedged_market_maker": (
        {"BTC-2JUL25-95000-C": "-20", "BTC-2JUL25-105000-C": "20", "BTC-2JUL25-85000-P": "20",
         "BTC-2JUL25": "9"},
        {"USDC": "50000", "BTC": "0.5"}),
    "naked_short_calls": (
        {"BTC-9JUN25-100000-C": "-5"},
        {"USDC": "60000", "BTC": "0.25"}),
    "delta_neutral_straddle": (
        {"ETH-2JUL25-3400-C": "-50", "ETH-2JUL25-3400-P": "-50", "ETH-PERP": "4.8"},
        {"USDC": "40000", "ETH": "5"}),
    "futures_basis_trade": (
        {"BTC-USD": "10", "BTC-31AUG25": "-10"},
        {"USDC": "15000"}),
    "insolvent": (
        {"ETH-PERP": "200", "ETH-2JUL25-3250-P": "-100"},
        {"USDC": "40000"}),
    "large/hedged_market_maker_16": (
        {"BTC-9JUN25-95000-C": "-10", "BTC-9JUN25-95000-P": "-10",
         "BTC-2JUL25-95000-C": "-20", "BTC-2JUL25-105000-C": "20", "BTC-2JUL25-85000-P": "20", "BTC-2JUL25": "8",
         "BTC-31AUG25-95000-C": "10", "BTC-31AUG25-95000-P": "10",
         "ETH-9JUN25-3400-C": "-150", "ETH-9JUN25-3400-P": "-150",
         "ETH-2JUL25-3400-C": "-300", "ETH-2JUL25-3850-C": "300", "ETH-2JUL25-2950-P": "300", "ETH-2JUL25": "115",
         "ETH-31AUG25-3400-C": "150", "ETH-31AUG25-3400-P": "150"},
        {"USDC": "150000", "BTC": "1", "ETH": "20"}),
    "borrowed_cash": (
        {"BTC-2JUL25": "-2"},
        {"USDC": "-150000", "BTC": "3"}),
}


#: name -> {position symbol: (asset symbol, amount)}: the collateral each position carries under
#: the isolated model (the rest of the balance backs nothing there).
ALLOCATIONS: dict[str, dict[str, tuple[str, str]]] = {
    "hedged_market_maker": {"BTC-2JUL25-95000-C": ("USDC", "30000"), "BTC-2JUL25": ("USDC", "20000"),
                            "BTC-2JUL25-85000-P": ("BTC", "0.5")},
    "naked_short_calls": {"BTC-9JUN25-100000-C": ("USDC", "60000")},
    "delta_neutral_straddle": {"ETH-2JUL25-3400-C": ("USDC", "15000"), "ETH-2JUL25-3400-P": ("USDC", "15000"),
                               "ETH-PERP": ("USDC", "10000")},
    "futures_basis_trade": {"BTC-31AUG25": ("USDC", "15000")},
    "insolvent": {"ETH-PERP": ("USDC", "40000")},
}


def example_holder(name: str) -> str:
    """A fixed, public EVM-style address for the example account ``name`` (reproducible)."""
    return "0x" + hashlib.sha256(f"zkmargin example holder {name}".encode()).hexdigest()[:40]


def example_account(name: str, market: Market) -> Account:
    """The example account ``name`` of :data:`ACCOUNTS`, resolved to instrument ids and asset indices."""
    positions, balances = ACCOUNTS[name]
    allocations = ALLOCATIONS.get(name, {})
    ids = {i.symbol: i.id for i in market.instruments}
    assets = {c.symbol: c.index for c in market.collateral}

    def position(symbol: str, quantity: str) -> Position:
        alloc = allocations.get(symbol)
        return Position.model_validate({
            "instrument": ids[symbol], "quantity": quantity,
            **({"allocation": {"asset": assets[alloc[0]], "amount": alloc[1]}} if alloc else {})})

    return Account.model_validate({
        "name": Path(name).name,
        "positions": [position(s, q) for s, q in positions.items()],
        "balances": [Balance.model_validate({"asset": assets[a], "amount": v}) for a, v in balances.items()],
    })


def render() -> dict[Path, str]:
    """Every generated file and its exact text."""
    market = load_market(EXAMPLES / "market.json")
    out = {EXAMPLES / f"snapshot_{p}.json": build_snapshot(market, p).model_dump_json(indent=2) + "\n"
           for p in PRESETS}
    ledger = []
    for name in ACCOUNTS:
        account = example_account(name, market)
        out[EXAMPLES / f"{name}.json"] = account.model_dump_json(indent=2) + "\n"
        line = {"account_id": Path(name).name, "holder": example_holder(name),
                **json.loads(account.model_dump_json(exclude={"schema_version"}))}
        LedgerEntry.model_validate_json(json.dumps(line))  # the line is a valid ledger entry
        ledger.append(json.dumps(line) + "\n")
    out[EXAMPLES / "ledger.jsonl"] = "".join(ledger)
    return out


def main() -> None:
    """Write the files whose text changed; report each one."""
    for path, text in render().items():
        if path.exists() and path.read_text() == text:
            print(f"unchanged {path.relative_to(EXAMPLES)}")
            continue
        write_atomic(path, text)
        print(f"wrote     {path.relative_to(EXAMPLES)}")


if __name__ == "__main__":
    main()
