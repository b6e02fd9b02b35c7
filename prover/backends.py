"""Groth16 proving backends: one small interface, two implementations over the same zkey.

A :class:`ProvingBackend` turns a circuit's full witness (as
:meth:`~prover.witness.WitnessCalculator.calculate` returns it: wire 0 = 1, then the public
signals, then the rest) into a proof in snarkjs JSON layout and its public signals. Both read the
zkey of the trusted setup unchanged, so the ceremony path is the same for both:

* :class:`SnarkjsBackend`: ``snarkjs groth16 prove`` (Node), the reference;
* :class:`NativeBackend`: arkworks in-process through the optional package ``groth16py``; the zkey
  is imported once per process and shared by every backend built on it.

:func:`proof_check` gives the three verifiers (pure-Python py_ecc, native, snarkjs CLI) one
signature, so a proof from either prover can be checked by any of them. All three first run the
same encoding checks in Python (:func:`verifier.groth16.check_encoding`: coordinates below q, on
the curve, B in G2, exactly nPublic signals below r); native and snarkjs then pair the canonical
form of what passed, so every input gets the same verdict from each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Protocol, get_args

from prover import snarkjs
from prover.binfile import read_section_table
from prover.lifetime import private_file
from prover.witness import write_wtns
from verifier import Proof, VerifyingKey, load_verifying_key, verify
from verifier.bn254 import CURVE_ORDER
from verifier.groth16 import check_encoding
from verifier.bundle import ProofCheck
from verifier.native import NativeVerifier, load_groth16py, snarkjs_proof
from zkmargin.bundle import Backend, Verifier
from zkmargin.errors import ProverError

BACKENDS: tuple[Backend, ...] = get_args(Backend)
"""Names of the proving backends, the reference first."""

VERIFIERS: tuple[Verifier, ...] = get_args(Verifier)
"""Names of the verifiers, the pure-Python default first."""

NATIVE_KEYS_CACHED = 4
"""Imported native proving keys kept per process (one per zkey file version)."""

ZKEY_MAGIC = b"zkey"
ZKEY_PROTOCOL_SECTION = 1
ZKEY_GROTH16_SECTION = 2
ZKEY_GROTH16 = 1
"""snarkjs zkey layout: the protocol section, the Groth16 header section, Groth16's protocol id."""


class ProvingBackend(Protocol):
    """Proves with one circuit's proving key."""

    @property
    def name(self) -> Backend:
        """What the bundle records as its ``prover_backend``."""
        ...

    def prove(self, witness: Sequence[int]) -> tuple[dict[str, Any], list[int]]:
        """(proof in snarkjs JSON layout, public signals) for a full witness."""
        ...


@dataclass(frozen=True)
class SnarkjsBackend:
    """``snarkjs groth16 prove`` on a .wtns file written from the witness."""

    zkey: Path
    name: Backend = field(default="snarkjs", init=False)

    def prove(self, witness: Sequence[int]) -> tuple[dict[str, Any], list[int]]:
        with _wtns_file(witness) as (wtns, fds):
            proof, public = snarkjs.prove(self.zkey, wtns, fds=fds)
        return proof, [int(value) for value in public]


@dataclass(frozen=True)
class NativeKey:
    """A zkey imported by groth16py, with its sizes from the zkey's Groth16 header."""

    proving_key: Any
    """The opaque ``groth16py.ProvingKey``."""
    n_wires: int
    n_public: int


class NativeBackend:
    """groth16py (arkworks) proving in-process with the imported zkey."""

    name: Backend = "native"

    def __init__(self, zkey: Path) -> None:
        """Import ``zkey`` (or reuse this process's import of it); ToolchainError without
        groth16py, ProverError if the zkey cannot be imported."""
        self.zkey = zkey
        self._groth16py = load_groth16py()
        self.key = imported_zkey(zkey)
        """The imported key, shared by every NativeBackend on the same zkey file."""

    def prove(self, witness: Sequence[int]) -> tuple[dict[str, Any], list[int]]:
        if len(witness) != self.key.n_wires:
            raise ProverError(
                f"native prover: the witness has {len(witness)} values, {self.zkey.name} is for "
                f"{self.key.n_wires} wires"
            )
        with _wtns_file(witness) as (wtns, _):
            try:
                blob = self._groth16py.prove_wtns(self.key.proving_key, str(wtns))
            except (self._groth16py.WitnessError, self._groth16py.EncodingError) as exc:
                raise ProverError(f"native prover, {self.zkey.name}: {exc}") from None
        return snarkjs_proof(blob), [int(value) for value in witness[1 : 1 + self.key.n_public]]


def proving_backend(name: Backend, zkey: Path) -> ProvingBackend:
    """The backend called ``name`` for the proving key ``zkey``."""
    return NativeBackend(zkey) if name == "native" else SnarkjsBackend(zkey)


def imported_zkey(zkey: Path) -> NativeKey:
    """``zkey`` imported by groth16py, once per process and file version (path, mtime, size)."""
    try:
        stat = zkey.stat()
    except OSError as exc:
        raise ProverError(f"cannot read proving key {zkey}: {exc.strerror}") from None
    return _import_zkey(str(zkey.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=NATIVE_KEYS_CACHED)
def _import_zkey(path: str, mtime_ns: int, size: int) -> NativeKey:
    """Import the zkey at ``path``; the modification time and size only key the cache."""
    groth16py = load_groth16py()
    try:
        proving_key, _ = groth16py.import_zkey(path)
    except (groth16py.SetupError, groth16py.EncodingError) as exc:
        raise ProverError(f"groth16py cannot import {path}: {exc}") from None
    return NativeKey(proving_key, *zkey_sizes(Path(path)))


def zkey_sizes(zkey: Path) -> tuple[int, int]:
    """(wires, public signals) of a snarkjs Groth16 zkey, from its header sections.

    Section 1 names the protocol (1 = Groth16); section 2 starts with n8q, q, n8r, r, then the
    wire count and the public-signal count (u32 little-endian each).
    """
    with zkey.open("rb") as handle:
        table = read_section_table(handle, zkey, ZKEY_MAGIC)
        protocol = table.read(handle, ZKEY_PROTOCOL_SECTION)
        header = table.read(handle, ZKEY_GROTH16_SECTION)
    if int.from_bytes(protocol[:4], "little") != ZKEY_GROTH16:
        raise ProverError(f"{zkey} is not a Groth16 zkey")
    n8q = int.from_bytes(header[:4], "little")
    at = 4 + n8q
    n8r = int.from_bytes(header[at : at + 4], "little")
    at += 4 + n8r
    return int.from_bytes(header[at : at + 4], "little"), int.from_bytes(header[at + 4 : at + 8], "little")


def proof_check(verifier: Verifier, vk: Path) -> ProofCheck:
    """The verifier called ``verifier`` bound to the snarkjs verification key ``vk``.

    The key is loaded and validated in Python whichever verifier pairs; a proof and its public
    signals pass :func:`~verifier.groth16.check_encoding` before any backend sees them, so a
    malformed input raises VerificationError from every verifier alike.
    """
    key = load_verifying_key(vk)
    pair = _pairing(verifier, key, vk)

    def check(proof: Mapping[str, Any], public: Sequence[int]) -> bool:
        return pair(*check_encoding(key, proof, public))

    return check


def _pairing(verifier: Verifier, key: VerifyingKey, vk: Path) -> Callable[[Proof, list[int]], bool]:
    """The pairing check of ``verifier`` on inputs that already passed the encoding checks."""
    if verifier == "native":
        native = NativeVerifier(vk)
        return lambda proof, public: native.verify(proof.to_json(), public)
    if verifier == "snarkjs":
        return lambda proof, public: snarkjs.verify(vk, proof.to_json(), public)
    return partial(verify, key)


@contextmanager
def _wtns_file(witness: Sequence[int]) -> Iterator[tuple[Path, tuple[int, ...]]]:
    """``witness`` (private: it holds the whole account) as a .wtns file that exists only in
    memory where the OS allows (:func:`prover.lifetime.private_file`), with the descriptors a
    child process needs to read it."""
    with private_file("witness.wtns") as (path, fds):
        write_wtns(path, witness, CURVE_ORDER)
        yield path, fds
