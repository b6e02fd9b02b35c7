"""The venue's side of an epoch: its key, the salts it derives, the account tree it publishes and signs.

``publish`` turns the venue's ledger (one :class:`~zkmargin.models.LedgerEntry` per account) and
the epoch's risk snapshot into

* ``epoch.json`` (public, :class:`~zkmargin.models.Epoch`): epoch, snapshot root per circuit
  profile, account root and tree shape, number of accounts, time, signed with the venue's
  Ed25519 key over ``EPOCH_DOMAIN`` + the header's canonical JSON (sorted keys, no spaces);
* one private :class:`~zkmargin.models.Statement` per account (``statements/<account_id>.json``,
  mode 0600): what the venue sends that account's holder, and all the trader needs to prove.

Salts: ``salt = HMAC-SHA512(salt_key, SALT_DOMAIN || len(id) || id || epoch)`` truncated to 248
bits, with ``salt_key = HMAC-SHA256(venue private key bytes, b"zkmargin/salt-key/v1")``. The venue
recomputes any salt from its key, the account id and the epoch; a trader cannot choose one; a
salt carries 248 bits derived from the 256-bit key, and no two (account, epoch) pairs share one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from zkmargin import fixedpoint as fp
from zkmargin.account_tree import ACCOUNT_TREE_DEPTH, LEAF_ASSETS, LEAF_POSITIONS, LeafBook, account_leaf
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import InputError
from zkmargin.files import read_input
from zkmargin.io import parse_model, write_atomic
from zkmargin.merkle import MerkleTree
from zkmargin.models import Account, Epoch, EpochHeader, LedgerEntry, RiskSnapshot, Statement, TreeShape
from zkmargin.profiles import PROFILES

EPOCH_DOMAIN = b"zkmargin/epoch/v1\n"
SALT_DOMAIN = b"zkmargin/salt/v1"
SALT_BITS = 248
#: The fields of a ledger entry that make up the account's book.
BOOK_FIELDS = {"schema_version", "name", "positions", "balances"}
J = TypeVar("J")


# ---- keys -------------------------------------------------------------------------------------
def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def save_key(key: Ed25519PrivateKey, private_path: Path, public_path: Path) -> None:
    """The private key as PKCS#8 PEM (mode 0600), the public key as 64 hex digits."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    write_atomic(private_path, pem.decode(), mode=0o600)
    write_atomic(public_path, public_key_hex(key.public_key()) + "\n")


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The venue's private key from a PEM file (InputError naming the file if it is not one)."""
    data = read_input(path, "venue key")
    if not data.startswith(b"-----BEGIN PRIVATE KEY-----"):
        raise InputError(f"{path}: not a PKCS#8 PEM private key (run `zkmargin venue keygen`)")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise InputError(f"{path}: not an unencrypted PEM private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: not an Ed25519 private key (run `zkmargin venue keygen`)")
    return key


def public_key_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def parse_public_key(text: str, source: str = "venue key") -> Ed25519PublicKey:
    """A venue public key from its 64 hex digits (a file's content or the value itself)."""
    t = text.strip().lower().removeprefix("0x")
    if len(t) != 64 or any(c not in "0123456789abcdef" for c in t):
        raise InputError(f"{source}: an Ed25519 public key is 64 hex digits")
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(t))


def load_public_key(value: str) -> Ed25519PublicKey:
    """``--venue-key``: a file holding the hex public key, or the hex itself."""
    p = Path(value)
    if p.exists():
        return parse_public_key(read_input(p, "--venue-key")[:200].decode(errors="replace"), str(p))
    return parse_public_key(value, "--venue-key")


# ---- salts and signatures --------------------------------------------------------------------
def derive_salt(key: Ed25519PrivateKey, account_id: str, epoch: int) -> int:
    """The salt of ``account_id``'s leaf at ``epoch`` (see the module docstring)."""
    secret = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                               serialization.NoEncryption())
    salt_key = hmac.new(secret, b"zkmargin/salt-key/v1", hashlib.sha256).digest()
    ident = account_id.encode()
    msg = SALT_DOMAIN + len(ident).to_bytes(4, "big") + ident + fp.EPOCH.check("epoch", epoch).to_bytes(8, "big")
    return int.from_bytes(hmac.new(salt_key, msg, hashlib.sha512).digest()[:SALT_BITS // 8], "big")


def header_bytes(header: EpochHeader) -> bytes:
    """What the venue signs: the domain tag and the header's canonical JSON."""
    data = header.model_dump(mode="json")
    return EPOCH_DOMAIN + json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def sign_epoch(header: EpochHeader, key: Ed25519PrivateKey) -> Epoch:
    return Epoch(**header.model_dump(), signature=key.sign(header_bytes(header)).hex())


def check_epoch_signature(epoch: Epoch, key: Ed25519PublicKey) -> None:
    """Raise InputError unless ``epoch`` carries the venue's signature over its header."""
    try:
        key.verify(bytes.fromhex(epoch.signature), header_bytes(epoch.header()))
    except InvalidSignature:
        raise InputError(f"epoch {epoch.epoch} of {epoch.venue}: the signature is not the venue key's "
                         f"(forged or edited epoch file, or the wrong --venue-key)") from None


# ---- the ledger --------------------------------------------------------------------------------
def read_ledger(path: Path) -> Iterator[LedgerEntry]:
    """The ledger's accounts, one JSON object a line (blank lines skipped); InputError names the line."""
    for n, line in enumerate(read_input(path, "ledger").splitlines(), 1):
        if line.strip():
            where = f"{path} line {n}"
            yield parse_model(LedgerEntry, line.strip(), source=where).located(where)


def random_ledger(snapshot: RiskSnapshot, n: int, *, seed: int = 0, positions: int = 4,
                  assets: int = 4, debt_share: float = 0.1) -> Iterator[dict[str, object]]:
    """``n`` random ledger lines over the snapshot's instruments (tests and benchmarks).

    Each account holds up to ``positions`` positions in one or two risk groups, balances in up to
    ``assets`` assets, and with probability ``debt_share`` a debt in one of them.
    """
    rng = random.Random(seed)
    by_group: dict[int, list[int]] = {}
    for ins in snapshot.instruments:
        by_group.setdefault(ins.group, []).append(ins.id)
    groups = sorted(by_group)
    n_assets = min(assets, len(snapshot.collateral))
    for i in range(n):
        pool = [x for g in rng.sample(groups, k=min(len(groups), rng.randint(1, 2))) for x in by_group[g]]
        ids = sorted(rng.sample(pool, k=rng.randint(1, min(positions, len(pool)))))
        balances = [{"asset": k, "amount": f"{rng.randint(0, 2_000_000)}.{rng.randint(0, 999_999):06d}"}
                     for k in range(n_assets)]
        if n_assets and rng.random() < debt_share:
            balances[rng.randrange(n_assets)]["amount"] = f"-{rng.randint(1, 50_000)}"
        yield {
            "account_id": f"acct-{i:07d}",
            "holder": f"0x{rng.getrandbits(160):040x}",
            "positions": [{"instrument": x, "quantity": f"{rng.choice((-1, 1)) * rng.randint(1, 500)}.{rng.randint(0, 99):02d}"}
                          for x in ids],
            "balances": balances,
        }


# ---- publishing ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EpochTree:
    """An epoch's signed header with its account tree; statements are made on demand (memory)."""

    epoch: Epoch
    accounts: list[LedgerEntry]   # in tree order (ascending account_id)
    salts: list[int]
    tree: MerkleTree

    def statement(self, i: int) -> Statement:
        """The private statement of the ``i``-th account (tree order).

        Built without re-validation: every field is already a validated ledger value or computed
        here (100,000 statements per epoch), and it round-trips through :class:`Statement`."""
        entry = self.accounts[i]
        proof = self.tree.proof(i)
        return Statement.model_construct(
            venue=self.epoch.venue, epoch=self.epoch.epoch, account_id=entry.account_id, holder=entry.holder,
            salt=self.salts[i], index=i, path=[list(level) for level in proof.siblings],
            account_root=self.tree.root, account=entry)

    def statements(self) -> Iterator[Statement]:
        return (self.statement(i) for i in range(len(self.accounts)))


def _leaf(args: tuple[int, int, int, LeafBook]) -> int:
    return account_leaf(*args)


def _check_entries(entries: Sequence[LedgerEntry], snapshot: RiskSnapshot) -> None:
    """InputError, naming the entry's line (:attr:`LedgerEntry.source`), for the first entry the
    epoch cannot hold: a repeated account id, more positions or assets than a leaf holds, an
    instrument or an asset the snapshot does not list."""
    known = snapshot.instruments_by_id
    n_assets = min(LEAF_ASSETS, len(snapshot.collateral))
    seen: dict[str, str] = {}
    for e in entries:
        where = f"{e.source}: account {e.account_id}"
        if e.account_id in seen:
            raise InputError(f"{where} appears twice (first at {seen[e.account_id]})")
        seen[e.account_id] = e.source
        if len(e.positions) > LEAF_POSITIONS:
            raise InputError(f"{where} has {len(e.positions)} positions; an account leaf holds {LEAF_POSITIONS}")
        for p in e.positions:
            if p.instrument not in known:
                raise InputError(f"{where} holds instrument {p.instrument}, which the snapshot of epoch "
                                 f"{snapshot.epoch} does not list")
        for b in e.balances:
            if b.asset >= n_assets:
                raise InputError(f"{where} has a balance in asset {b.asset}; the snapshot lists assets "
                                 f"0..{n_assets - 1}")


def check_ledger(entries: Iterable[LedgerEntry], snapshot: RiskSnapshot) -> list[LedgerEntry]:
    """The ledger's accounts in tree order (ascending ``account_id``), each checked against the
    snapshot and the leaf layout; InputError names the first offending line."""
    accounts = sorted(entries, key=lambda e: e.account_id)
    if not accounts:
        raise InputError("the ledger holds no accounts: nothing to publish")
    _check_entries(accounts, snapshot)
    if len(accounts) > 4**ACCOUNT_TREE_DEPTH:
        raise InputError(f"{len(accounts)} accounts exceed the account tree ({4**ACCOUNT_TREE_DEPTH})")
    return accounts


def snapshot_roots(snapshot: RiskSnapshot) -> dict[str, int]:
    """The snapshot's root under every profile it fits (a profile it does not fit is left out)."""
    roots = {}
    for name, profile in PROFILES.items():
        try:
            roots[name] = SnapshotCommitment(snapshot, profile).root
        except InputError:
            continue
    if not roots:
        raise InputError(f"snapshot of epoch {snapshot.epoch} fits no circuit profile")
    return roots


def build_epoch(entries: Iterable[LedgerEntry], snapshot: RiskSnapshot, key: Ed25519PrivateKey, *,
                workers: int | None = None, now: datetime | None = None) -> EpochTree:
    """The epoch's account tree over the ledger, and its signed header.

    Accounts are placed in ascending ``account_id`` order. ``workers`` processes hash the leaves
    (default: the CPU count, used only when there are thousands of accounts).
    """
    accounts = check_ledger(entries, snapshot)
    epoch = snapshot.epoch
    salts = [derive_salt(key, e.account_id, epoch) for e in accounts]
    leaves = _map(_leaf, [(epoch, e.holder, s, LeafBook.of(e)) for e, s in zip(accounts, salts)], workers)
    tree = MerkleTree(leaves, ACCOUNT_TREE_DEPTH)
    header = EpochHeader(
        venue=snapshot.venue, epoch=epoch, snapshot_roots=snapshot_roots(snapshot), account_root=tree.root,
        tree=TreeShape(depth=ACCOUNT_TREE_DEPTH), accounts=len(accounts),
        published_at=(now or datetime.now(timezone.utc)).isoformat(timespec="seconds"))
    return EpochTree(sign_epoch(header, key), accounts, salts, tree)


def publish(built: EpochTree, out: Path) -> Path:
    """Write every statement (``out/statements/<account_id>.json``, 0600, folder 0700), then the
    signed ``out/epoch.json``: a folder without ``epoch.json`` is an interrupted publication.
    Returns the path of ``epoch.json``."""
    folder = out / "statements"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    for statement in built.statements():
        # private from the first byte (0600 at creation); not atomic, for speed: until epoch.json
        # exists the folder is an interrupted publication and no statement in it counts
        fd = os.open(folder / f"{statement.account_id}.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(statement.model_dump_json(indent=1) + "\n")
    write_atomic(out / "epoch.json", built.epoch.model_dump_json(indent=2) + "\n")
    return out / "epoch.json"


def _map(fn: Callable[[J], int], jobs: list[J], workers: int | None) -> list[int]:
    """``[fn(j) for j in jobs]``, on a process pool when there is enough work to pay for it."""
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n <= 1 or len(jobs) < 2_000:
        return [fn(j) for j in jobs]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(n) as pool:
        return list(pool.map(fn, jobs, chunksize=max(1, len(jobs) // (8 * n))))


def attest(accounts: Sequence[Account], snapshot: RiskSnapshot, key: Ed25519PrivateKey | None = None) -> EpochTree:
    """A one-off epoch over ``accounts`` (ids ``acct-0000000``... in order, holders 1, 2, ...):
    the statements a venue would issue for them. For tests, audits and benchmarks; a fresh key
    unless ``key`` is given."""
    entries = [LedgerEntry.model_validate_json(
        json.dumps({"account_id": f"acct-{i:07d}", "holder": str(i + 1),
                    **json.loads(a.model_dump_json(exclude={"schema_version"}))}))
        for i, a in enumerate(accounts)]
    return build_epoch(entries, snapshot, key or generate_key(), workers=1)
