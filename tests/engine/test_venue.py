"""The venue: salt derivation, the signed epoch header, publication on disk, the ledger reader's
errors, and the random ledger generator."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.factories import synthetic_snapshot
from zkmargin.account_tree import ACCOUNT_TREE_DEPTH, statement_proof
from zkmargin.errors import BoundError, InputError
from zkmargin.models import Epoch, LedgerEntry, Statement
from zkmargin.venue import (SALT_BITS, EpochTree, build_epoch, check_epoch_signature, derive_salt, publish,
                            random_ledger, read_ledger)

SNAPSHOT = synthetic_snapshot(instruments=12, groups=3, scenarios=4, assets=3, epoch=41)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _entries(n: int, seed: int = 0) -> list[LedgerEntry]:
    return [LedgerEntry.model_validate(line) for line in random_ledger(SNAPSHOT, n, seed=seed)]


@pytest.fixture(scope="module")
def built() -> EpochTree:
    return build_epoch(_entries(7), SNAPSHOT, KEY, now=NOW)


# ---- salts ----
def _documented_salt(key: Ed25519PrivateKey, account_id: str, epoch: int) -> int:
    """The derivation as zkmargin/venue.py documents it, written out again."""
    secret = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                               serialization.NoEncryption())
    salt_key = hmac.new(secret, b"zkmargin/salt-key/v1", hashlib.sha256).digest()
    msg = (b"zkmargin/salt/v1" + len(account_id.encode()).to_bytes(4, "big") + account_id.encode()
           + epoch.to_bytes(8, "big"))
    return int.from_bytes(hmac.new(salt_key, msg, hashlib.sha512).digest()[:31], "big")


def test_a_salt_is_the_documented_hmac_and_is_deterministic() -> None:
    assert derive_salt(KEY, "acct-1", 5) == derive_salt(KEY, "acct-1", 5) == _documented_salt(KEY, "acct-1", 5)


def test_salts_differ_across_epochs_accounts_and_keys_and_carry_248_bits() -> None:
    salts = {derive_salt(key, account, epoch) for key in (KEY, OTHER_KEY)
             for account in ("a", "b", "ab", "acct-0000001") for epoch in (0, 1, 2**64 - 1)}
    assert len(salts) == 2 * 4 * 3
    assert SALT_BITS == 248 and all(0 <= s < 2**248 for s in salts)
    assert max(s.bit_length() for s in salts) == 248


def test_the_account_id_is_length_prefixed_so_id_and_epoch_bytes_cannot_trade_places() -> None:
    assert derive_salt(KEY, "a", 0x62) != derive_salt(KEY, "ab", 0)


def test_a_salt_refuses_an_epoch_outside_64_bits() -> None:
    with pytest.raises(BoundError, match=r"^epoch = 18446744073709551616: must lie in"):
        derive_salt(KEY, "a", 2**64)


# ---- the signed epoch ----
def test_the_epoch_carries_the_tree_and_snapshot_roots_and_verifies_under_the_venue_key(built: EpochTree) -> None:
    e = built.epoch
    assert (e.venue, e.epoch, e.accounts, e.tree.depth, e.tree.arity) == ("test", 41, 7, ACCOUNT_TREE_DEPTH, 4)
    assert e.account_root == built.tree.root and set(e.snapshot_roots) == {"small", "standard"}
    assert e.published_at == "2026-01-02T03:04:05+00:00"
    check_epoch_signature(e, KEY.public_key())
    check_epoch_signature(Epoch.model_validate_json(e.model_dump_json()), KEY.public_key())


@pytest.mark.parametrize(("field", "value"), [
    ("venue", "other"), ("epoch", 42), ("snapshot_roots", {"small": "1"}), ("account_root", "12345"),
    ("tree", {"arity": 4, "depth": 11}), ("accounts", 8), ("published_at", "2026-01-02T03:04:06+00:00"),
    ("signature", "00" * 64),
])
def test_an_epoch_with_any_field_edited_fails_its_signature(built: EpochTree, field: str, value: Any) -> None:
    data = json.loads(built.epoch.model_dump_json())
    data[field] = value
    edited = Epoch.model_validate_json(json.dumps(data))
    with pytest.raises(InputError, match=r"the signature is not the venue key's"):
        check_epoch_signature(edited, KEY.public_key())


def test_an_epoch_fails_under_another_venue_key(built: EpochTree) -> None:
    with pytest.raises(InputError, match=r"^epoch 41 of test: the signature is not the venue key's"):
        check_epoch_signature(built.epoch, OTHER_KEY.public_key())


# ---- publication ----
def test_publish_writes_private_statements_that_open_to_the_signed_root(built: EpochTree, tmp_path: Path) -> None:
    epoch_file = publish(built, tmp_path)
    folder = tmp_path / "statements"
    assert epoch_file == tmp_path / "epoch.json"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == [f"{e.account_id}.json" for e in built.accounts]
    epoch = Epoch.model_validate_json(epoch_file.read_text())
    assert epoch == built.epoch
    for i, f in enumerate(files):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        statement = Statement.model_validate_json(f.read_text())
        assert (statement.index, statement.epoch, statement.account_root) == (i, 41, epoch.account_root)
        assert statement_proof(statement).root() == epoch.account_root
    assert epoch_file.stat().st_mtime_ns >= max(f.stat().st_mtime_ns for f in files)


def test_publish_writes_no_epoch_file_when_a_statement_cannot_be_written(built: EpochTree, tmp_path: Path) -> None:
    """epoch.json comes last: a publication interrupted at a statement leaves no epoch file."""
    (tmp_path / "statements" / f"{built.accounts[3].account_id}.json").mkdir(parents=True)
    with pytest.raises(OSError):
        publish(built, tmp_path)
    assert not (tmp_path / "epoch.json").exists()


def test_accounts_sit_in_the_tree_in_ascending_id_order_whatever_the_ledger_order() -> None:
    entries = _entries(5)
    forward = build_epoch(entries, SNAPSHOT, KEY, now=NOW)
    backward = build_epoch(entries[::-1], SNAPSHOT, KEY, now=NOW)
    assert [e.account_id for e in backward.accounts] == sorted(e.account_id for e in entries)
    assert backward.epoch == forward.epoch


# ---- the ledger ----
def _line(**changes: Any) -> str:
    data: dict[str, Any] = {"account_id": "alice", "holder": "0x" + "11" * 20,
                            "positions": [{"instrument": SNAPSHOT.instruments[0].id, "quantity": "1"}],
                            "balances": [{"asset": 0, "amount": "100"}, {"asset": 1, "amount": "-2"}]}
    return json.dumps(data | changes)


def _publish_ledger(tmp_path: Path, *lines: str) -> EpochTree:
    path = tmp_path / "ledger.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return build_epoch(read_ledger(path), SNAPSHOT, KEY, now=NOW)


def test_a_valid_ledger_with_a_blank_line_and_a_debt_is_read(tmp_path: Path) -> None:
    built = _publish_ledger(tmp_path, _line(), "", _line(account_id="bob"))
    assert [e.account_id for e in built.accounts] == ["alice", "bob"]
    assert min(b.amount for b in built.statement(0).account.balances) == -2_000_000


@pytest.mark.parametrize(("line", "message"), [
    ('{"account_id": "bob", ', r"line 3: malformed JSON"),
    (_line(account_id="bob", positions=[{"instrument": 99999, "quantity": "1"}]),
     r"line 3: account bob holds instrument 99999, which the snapshot of epoch 41 does not list$"),
    (_line(), r"line 3: account alice appears twice \(first at .*ledger\.jsonl line 1\)$"),
    (_line(account_id="bob", positions=[{"instrument": i.id, "quantity": "1"} for i in SNAPSHOT.instruments[:12]]
           + [{"instrument": 1_000_000 + k, "quantity": "1"} for k in range(5)]),
     r"line 3: account bob has 17 positions; an account leaf holds 16$"),
    (_line(account_id="bob", balances=[{"asset": 3, "amount": "1"}]),
     r"line 3: account bob has a balance in asset 3; the snapshot lists assets 0\.\.2$"),
    (_line(account_id="bob", balances=[{"asset": 16, "amount": "1"}]), r"line 3: balances\.0\.asset"),
    (_line(account_id="bob/../x"), r"line 3: account_id"),
])
def test_ledger_errors_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(InputError, match=r"^" + str(tmp_path / "ledger.jsonl").replace(".", r"\.") + " " + message):
        _publish_ledger(tmp_path, _line(), "", line)


def test_an_entry_read_from_a_ledger_equals_the_same_line_parsed_and_dumps_without_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text(_line() + "\n")
    (entry,) = read_ledger(path)
    assert entry.source == f"{path} line 1" and LedgerEntry.model_validate_json(_line()).source == "ledger"
    assert entry == LedgerEntry.model_validate_json(_line())
    assert entry != LedgerEntry.model_validate_json(_line(account_id="bob"))
    assert json.loads(entry.model_dump_json()) == json.loads(LedgerEntry.model_validate_json(_line()).model_dump_json())


def test_a_missing_ledger_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no such file$"):
        list(read_ledger(tmp_path / "absent.jsonl"))


# ---- the random ledger ----
def test_the_random_ledger_is_a_function_of_its_seed() -> None:
    assert list(random_ledger(SNAPSHOT, 20, seed=3)) == list(random_ledger(SNAPSHOT, 20, seed=3))
    assert list(random_ledger(SNAPSHOT, 20, seed=3)) != list(random_ledger(SNAPSHOT, 20, seed=4))


def test_the_random_ledger_is_valid_has_debts_and_publishes() -> None:
    entries = _entries(200, seed=1)
    built = build_epoch(entries, SNAPSHOT, KEY, now=NOW)
    assert built.epoch.accounts == 200 and len({e.account_id for e in entries}) == 200
    debtors = [e for e in entries if any(b.amount < 0 for b in e.balances)]
    assert 5 <= len(debtors) <= 50  # debt_share 0.1
    assert statement_proof(built.statement(199)).root() == built.epoch.account_root
