"""Powers of tau: how big a circuit a .ptau serves, where to find one, making an insecure dev one.

Size rule (snarkjs 0.7.6, ``zkey new``): Groth16 on ``n`` constraints with ``k`` public signals
needs an evaluation domain of ``2^p > n + k``, i.e. the next power of two >= n + k + 1 (the extra
slot is the constant-1 wire), so ``p = (n + k).bit_length()``; a prepared ptau of power
``P >= p`` serves it.

Lookup order of :func:`resolve_ptau`: an explicit path; the ``ZKMARGIN_PTAU`` environment
variable; the shared dev file beside the checkout that ``make demo`` uses
(``../shared/ptau/dev_bn128_17.ptau``), so a ``zkmargin setup`` after ``make demo`` makes the same
keys instead of generating another ptau; a cached dev file ``~/.cache/zkmargin/ptau/dev_bn128_<power>.ptau`` of sufficient power;
otherwise a dev file is generated (with a loud INSECURE warning) and cached. Production keys
must come from a public ceremony file passed explicitly.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from prover.binfile import read_section_table
from prover.cache import cache_dir, exclusive_lock, sweep_scratch
from prover.r1cs import R1csHeader
from prover.toolchain import PROJECT_ROOT
from prover.snarkjs import ptau_beacon, ptau_contribute, ptau_new, ptau_prepare_phase2
from zkmargin.errors import InputError
from zkmargin.files import require_regular_file

PTAU_ENV = "ZKMARGIN_PTAU"
SHARED_DEV_PTAU = PROJECT_ROOT.parent / "shared" / "ptau" / "dev_bn128_17.ptau"
"""The prepared dev ptau the Makefile passes as ZKMARGIN_PTAU when it exists (INSECURE too)."""
DEV_PTAU_LOCK = ".generate.lock"
"""Held while looking up or generating a dev ptau, so concurrent processes generate it once."""
DEV_PTAU_SCRATCH = "ptau-"
"""Prefix of a dev ptau generation's scratch folder (removed by the next run if one was killed)."""

BN254_BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583
"""q of BN254 (alt_bn128): the field of curve coordinates, which a bn128 .ptau header records."""

PTAU_MAGIC = b"ptau"
PTAU_HEADER_SECTION = 1
PTAU_PHASE2_SECTION = 12
"""Section written by ``powersoftau prepare phase2`` (tau*G1 in Lagrange basis)."""

DEV_BEACON_HASH = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
"""Public beacon of generated dev ptau files, the same as the shared dev_bn128_17.ptau used."""

_DEV_NAME = re.compile(r"dev_bn128_(\d+)\.ptau")

INSECURE_WARNING = """\
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! zkmargin: INSECURE DEVELOPMENT POWERS OF TAU                                              !!
!! No ptau file was given (--ptau / ZKMARGIN_PTAU), so one is generated on this machine by a  !!
!! single party. Keys built on it are for development and tests ONLY: never publish them or  !!
!! accept proofs made with them. Production keys start from a public ceremony file.          !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"""


@dataclass(frozen=True)
class PtauInfo:
    """What a .ptau header says about the file."""

    path: Path
    power: int
    """The file serves circuits whose domain is at most 2^power."""
    prepared: bool
    """True once ``powersoftau prepare phase2`` ran (required for Groth16 setup)."""


def required_power(header: R1csHeader) -> int:
    """Smallest ptau power for Groth16 on this circuit: 2^p > constraints + public signals."""
    return max(1, (header.n_constraints + header.n_public).bit_length())


def read_ptau_info(path: Path) -> PtauInfo:
    """Read the header of a .ptau file; InputError if it is not a BN254 powers-of-tau file."""
    require_regular_file(path, "ptau file")
    try:
        with path.open("rb") as handle:
            table = read_section_table(handle, path, PTAU_MAGIC)
            header = table.read(handle, PTAU_HEADER_SECTION)
    except OSError as exc:
        raise InputError(f"cannot read ptau file {path}: {exc}") from exc
    field_bytes = int.from_bytes(header[:4], "little")
    modulus = int.from_bytes(header[4 : 4 + field_bytes], "little")
    if modulus != BN254_BASE_FIELD:
        raise InputError(f"{path} is not a BN254 (bn128) powers-of-tau file")
    power = int.from_bytes(header[4 + field_bytes : 8 + field_bytes], "little")
    return PtauInfo(path, power, PTAU_PHASE2_SECTION in table.sections)


def check_ptau(path: Path, power: int) -> PtauInfo:
    """``path``'s header after checking it is prepared for phase 2 and serves 2^``power``."""
    info = read_ptau_info(path)
    if not info.prepared:
        raise InputError(
            f"{path} is not prepared for phase 2: run `snarkjs powersoftau prepare phase2` on it"
        )
    if info.power < power:
        raise InputError(
            f"{path} serves circuits up to 2^{info.power} (constraints + public signals + 1), "
            f"this circuit needs 2^{power}: use a powers-of-tau file of power >= {power}"
        )
    return info


def resolve_ptau(required_power: int, ptau: Path | None = None) -> Path:
    """A prepared ptau of power >= ``required_power``: ``ptau``, else $ZKMARGIN_PTAU, else the
    shared dev file the Makefile uses (:data:`SHARED_DEV_PTAU`), else a cached dev file, else a
    newly generated (INSECURE, warned on stderr) cached dev file."""
    if ptau is not None:
        return check_ptau(ptau, required_power).path
    from_env = os.environ.get(PTAU_ENV)
    if from_env:
        return check_ptau(Path(from_env), required_power).path
    if SHARED_DEV_PTAU.is_file() and read_ptau_info(SHARED_DEV_PTAU).power >= required_power:
        return check_ptau(SHARED_DEV_PTAU, required_power).path
    dev_dir = dev_ptau_dir()
    with exclusive_lock(dev_dir / DEV_PTAU_LOCK, waiting="waiting for another process making a dev ptau"):
        sweep_scratch(dev_dir, DEV_PTAU_SCRATCH)
        cached = sorted(
            (int(match.group(1)), path)
            for path in dev_dir.glob("dev_bn128_*.ptau")
            if (match := _DEV_NAME.fullmatch(path.name)) and int(match.group(1)) >= required_power
        )
        if cached:
            return check_ptau(cached[0][1], required_power).path
        return generate_dev_ptau(required_power, dev_dir / f"dev_bn128_{required_power}.ptau")


def dev_ptau_dir() -> Path:
    """Where generated dev ptau files are cached: ``~/.cache/zkmargin/ptau``."""
    return cache_dir() / "ptau"


def generate_dev_ptau(power: int, destination: Path) -> Path:
    """Run a one-party powers-of-tau ceremony of 2^``power`` into ``destination`` (INSECURE).

    Steps: new, one contribution with fresh random entropy, the public beacon, prepare phase2.
    The last step dominates: about 10 minutes at power 15 and 45 at power 17 on 2 cores.
    """
    print(INSECURE_WARNING, file=sys.stderr, flush=True)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=DEV_PTAU_SCRATCH, dir=destination.parent) as scratch:
        step = [Path(scratch) / f"step_{index}.ptau" for index in range(4)]
        ptau_new(power, step[0])
        ptau_contribute(
            step[0],
            step[1],
            name="zkmargin dev contribution (insecure)",
            entropy=secrets.token_hex(32),
        )
        ptau_beacon(
            step[1],
            step[2],
            beacon_hash=DEV_BEACON_HASH,
            iterations_exp=10,
            name="zkmargin dev beacon",
        )
        ptau_prepare_phase2(step[2], step[3])
        os.replace(step[3], destination)
    return destination
