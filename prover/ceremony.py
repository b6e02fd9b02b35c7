"""The production trusted setup: a multi-party Groth16 phase 2 on a public powers-of-tau file.

A ceremony lives in one directory: ``ceremony.json`` (the circuit, the ptau and every step), a copy
of the circuit's r1cs and witness wasm (what every participant verifies against), and one zkey per
step, ``<circuit>_0000.zkey`` (``groth16 setup``) then one per contribution and the closing
beacon. :meth:`Ceremony.export` writes the final zkey, its verification key and a key manifest of
the same shape as :func:`prover.setup.setup_keys` writes, so ``zkmargin prove`` uses the keys.

Secrets: a contribution's entropy reaches snarkjs on standard input only (snarkjs also mixes in
64 bytes of OS randomness) and is never logged or stored; each contributor must destroy it.

A ptau whose blake2b-512 matches a file of the Hermez / PSE perpetual powers of tau listed in
snarkjs 0.7.6's README (the table in :data:`KNOWN_PTAU`) is named in the ceremony record; any
other ptau is accepted and recorded as unknown (the dev ptau is rejected outright).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from prover import snarkjs
from prover.build import CircuitBuild
from prover.cache import sha256_file
from prover.ptau import DEV_BEACON_HASH, check_ptau, required_power
from prover.setup import MANIFEST_NAME, VK_NAME, KeySet, key_manifest, write_manifest
from zkmargin.errors import InputError
from zkmargin.files import check_output_dir
from zkmargin.io import load_model

STATE_NAME = "ceremony.json"
STATE_VERSION = 1
MIN_BEACON_ITERATIONS_EXP, MAX_BEACON_ITERATIONS_EXP = 10, 63
"""snarkjs accepts 2^10 .. 2^63 beacon hash iterations."""

#: blake2b-512 of the prepared Hermez / PSE ptau files (54 contributions and a beacon), from the
#: table in snarkjs 0.7.6's README ("Prepared (phase2) Ptau files for bn128"): hash -> (file, power).
KNOWN_PTAU: dict[str, tuple[str, int]] = {
    "d6a8fb3a04feb600096c3b791f936a578c4e664d262e4aa24beed1b7a9a96aa5eb72864d628db247e9293384b74b36ffb52ca8d148d6e1b8b51e279fdf57b583": ("powersOfTau28_hez_final_08.ptau", 8),
    "94f108a80e81b5d932d8e8c9e8fd7f46cf32457e31462deeeef37af1b71c2c1b3c71fb0d9b59c654ec266b042735f50311f9fd1d4cadce47ab234ad163157cb5": ("powersOfTau28_hez_final_09.ptau", 9),
    "6cfeb8cda92453099d20120bdd0e8a5c4e7706c2da9a8f09ccc157ed2464d921fd0437fb70db42104769efd7d6f3c1f964bcf448c455eab6f6c7d863e88a5849": ("powersOfTau28_hez_final_10.ptau", 10),
    "47c282116b892e5ac92ca238578006e31a47e7c7e70f0baa8b687f0a5203e28ea07bbbec765a98dcd654bad618475d4661bfaec3bd9ad2ed12e7abc251d94d33": ("powersOfTau28_hez_final_11.ptau", 11),
    "ded2694169b7b08e898f736d5de95af87c3f1a64594013351b1a796dbee393bd825f88f9468c84505ddd11eb0b1465ac9b43b9064aa8ec97f2b73e04758b8a4a": ("powersOfTau28_hez_final_12.ptau", 12),
    "58efc8bf2834d04768a3d7ffcd8e1e23d461561729beaac4e3e7a47829a1c9066d5320241e124a1a8e8aa6c75be0ba66f65bc8239a0542ed38e11276f6fdb4d9": ("powersOfTau28_hez_final_13.ptau", 13),
    "eeefbcf7c3803b523c94112023c7ff89558f9b8e0cf5d6cdcba3ade60f168af4a181c9c21774b94fbae6c90411995f7d854d02ebd93fb66043dbb06f17a831c1": ("powersOfTau28_hez_final_14.ptau", 14),
    "982372c867d229c236091f767e703253249a9b432c1710b4f326306bfa2428a17b06240359606cfe4d580b10a5a1f63fbed499527069c18ae17060472969ae6e": ("powersOfTau28_hez_final_15.ptau", 15),
    "6a6277a2f74e1073601b4f9fed6e1e55226917efb0f0db8a07d98ab01df1ccf43eb0e8c3159432acd4960e2f29fe84a4198501fa54c8dad9e43297453efec125": ("powersOfTau28_hez_final_16.ptau", 16),
    "6247a3433948b35fbfae414fa5a9355bfb45f56efa7ab4929e669264a0258976741dfbe3288bfb49828e5df02c2e633df38d2245e30162ae7e3bcca5b8b49345": ("powersOfTau28_hez_final_17.ptau", 17),
    "7e6a9c2e5f05179ddfc923f38f917c9e6831d16922a902b0b4758b8e79c2ab8a81bb5f29952e16ee6c5067ed044d7857b5de120a90704c1d3b637fd94b95b13e": ("powersOfTau28_hez_final_18.ptau", 18),
    "bca9d8b04242f175189872c42ceaa21e2951e0f0f272a0cc54fc37193ff6648600eaf1c555c70cdedfaf9fb74927de7aa1d33dc1e2a7f1a50619484989da0887": ("powersOfTau28_hez_final_19.ptau", 19),
    "89a66eb5590a1c94e3f1ee0e72acf49b1669e050bb5f93c73b066b564dca4e0c7556a52b323178269d64af325d8fdddb33da3a27c34409b821de82aa2bf1a27b": ("powersOfTau28_hez_final_20.ptau", 20),
    "9aef0573cef4ded9c4a75f148709056bf989f80dad96876aadeb6f1c6d062391f07a394a9e756d16f7eb233198d5b69407cca44594c763ab4a5b67ae73254678": ("powersOfTau28_hez_final_21.ptau", 21),
    "0d64f63dba1a6f11139df765cb690da69d9b2f469a1ddd0de5e4aa628abb28f787f04c6a5fb84a235ec5ea7f41d0548746653ecab0559add658a83502d1cb21b": ("powersOfTau28_hez_final_22.ptau", 22),
    "3063a0bd81d68711197c8820a92466d51aeac93e915f5136d74f63c394ee6d88c5e8016231ea6580bec02e25d491f319d92e77f5c7f46a9caa8f3b53c0ea544f": ("powersOfTau28_hez_final_23.ptau", 23),
    "fa404d140d5819d39984833ca5ec3632cd4995f81e82db402371a4de7c2eae8687c62bc632a95b0c6aadba3fb02680a94e09174b7233ccd26d78baca2647c733": ("powersOfTau28_hez_final_24.ptau", 24),
    "0377d860cdb09a8a31ea1b0b8c04335614c8206357181573bf294c25d5ca7dff72387224fbd868897e6769f7805b3dab02854aec6d69d7492883b5e4e5f35eeb": ("powersOfTau28_hez_final_25.ptau", 25),
    "418dee4a74b9592198bd8fd02ad1aea76f9cf3085f206dfd7d594c9e264ae919611b1459a1cc920c2f143417744ba9edd7b8d51e44be9452344a225ff7eead19": ("powersOfTau28_hez_final_26.ptau", 26),
    "10ffd99837c512ef99752436a54b9810d1ac8878d368fb4b806267bdd664b4abf276c9cd3c4b9039a1fa4315a0c326c0e8e9e8fe0eb588ffd4f9021bf7eae1a1": ("powersOfTau28_hez_final_27.ptau", 27),
    "55c77ce8562366c91e7cda394cf7b7c15a06c12d8c905e8b36ba9cf5e13eb37d1a429c589e8eaba4c591bc4b88a0e2828745a53e170eac300236f5c1a326f41a": ("powersOfTau28_hez_final.ptau", 28),
}

DEV_PTAU_SHA256 = "10716be11c74734930a14f1c2072d298e6c26aac08fb7c7e708dfe3c17588ebd"
"""sha256 of the shared, INSECURE ``dev_bn128_17.ptau`` (its entropy is published)."""

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CONTRIBUTION = re.compile(r"contribution #(\d+) (.*):$")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


@dataclass(frozen=True)
class Contribution:
    """One phase-2 contribution as ``snarkjs zkey verify`` reports it."""

    index: int
    name: str
    hash: str
    """The contribution hash (blake2b-512, hex): each contributor checks theirs is listed."""
    beacon_hash: str | None = None
    beacon_iterations_exp: int | None = None

    @property
    def is_beacon(self) -> bool:
        return self.beacon_hash is not None


def ptau_blake2b(path: Path) -> str:
    """blake2b-512 (hex) of a ptau file, the hash the public ceremonies publish."""
    digest = hashlib.blake2b(digest_size=64)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def known_ptau(blake2b: str) -> str | None:
    """The public ceremony file with this blake2b-512, if it is one of :data:`KNOWN_PTAU`."""
    entry = KNOWN_PTAU.get(blake2b.lower())
    return entry[0] if entry else None


def parse_contributions(report: str) -> list[Contribution]:
    """The contributions listed in a ``snarkjs zkey verify`` report, oldest first."""
    found: list[Contribution] = []
    lines = [_ANSI_ESCAPE.sub("", line) for line in report.splitlines()]
    for number, line in enumerate(lines):
        match = _CONTRIBUTION.search(line.strip())
        if match is None:
            continue
        block = lines[number + 1 :]
        digest = "".join(
            "".join(row.split()) for row in block[:4] if row.startswith(("\t", " "))
        )
        beacon = next((row.rsplit(": ", 1)[1].strip() for row in block[4:6]
                       if "Beacon generator:" in row), None)
        exp = next((int(row.rsplit(":", 1)[1]) for row in block[4:6]
                    if "Beacon iterations Exp:" in row), None)
        found.append(Contribution(int(match.group(1)), match.group(2), digest, beacon, exp))
    return sorted(found, key=lambda c: c.index)


class PtauRecord(BaseModel, extra="allow"):
    """The ptau a ceremony runs on, as ``ceremony.json`` records it."""

    path: str
    sha256: str
    blake2b: str
    power: int
    known_as: str | None


class StepRecord(BaseModel, extra="forbid"):
    """One step (a zkey) as ``ceremony.json`` records it: the fields of :class:`Step`."""

    kind: Literal["setup", "contribution", "beacon"]
    name: str
    zkey: str = Field(pattern=r"^[^/\\]+$")
    sha256: str


class CeremonyRecord(BaseModel, extra="allow"):
    """The shape ``ceremony.json`` must have before any field of it is used."""

    ceremony_version: int
    circuit_id: str
    source_hash: str
    optimization: str
    compiler_version: str
    constraints: int
    public_signals: int
    r1cs_sha256: str
    wasm_sha256: str
    ptau: PtauRecord
    steps: list[StepRecord] = Field(min_length=1)
    beacon: dict[str, Any] | None = None


@dataclass(frozen=True)
class Step:
    """One zkey of the ceremony: the initial setup, a contribution or the beacon."""

    kind: str
    """'setup', 'contribution' or 'beacon'."""
    name: str
    zkey: str
    """File name inside the ceremony directory."""
    sha256: str


class Ceremony:
    """A phase-2 ceremony directory (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        state_path = directory / STATE_NAME
        if not state_path.exists() and not state_path.is_symlink():
            raise InputError(f"{directory} is not a ceremony: no {STATE_NAME} (run `zkmargin "
                             "ceremony init` first)")
        record = load_model(CeremonyRecord, state_path)
        if record.ceremony_version != STATE_VERSION:
            raise InputError(f"{state_path}: unsupported ceremony_version {record.ceremony_version!r}")
        self.state: dict[str, Any] = record.model_dump()

    @classmethod
    def init(cls, directory: Path, build: CircuitBuild, ptau: Path, circuit_id: str) -> Ceremony:
        """Start a ceremony for ``build`` on the prepared ``ptau`` (``groth16 setup``).

        Raises InputError if the directory already holds a ceremony, the ptau is too small or
        unprepared, or it is the published-entropy dev ptau.
        """
        if (directory / STATE_NAME).exists():
            raise InputError(f"{directory} already holds a ceremony ({STATE_NAME})")
        check_output_dir(directory, "ceremony folder")
        info = check_ptau(ptau, required_power(build.header))
        ptau_sha256 = sha256_file(ptau)
        if ptau_sha256 == DEV_PTAU_SHA256:
            raise InputError(f"{ptau} is the INSECURE dev ptau (its entropy is public): a ceremony "
                             "needs a public ceremony file such as powersOfTau28_hez_final_NN.ptau")
        blake2b = ptau_blake2b(ptau)
        r1cs, wasm = directory / f"{circuit_id}.r1cs", directory / f"{circuit_id}.wasm"
        shutil.copyfile(build.r1cs, r1cs)
        shutil.copyfile(build.wasm, wasm)
        first = directory / f"{circuit_id}_0000.zkey"
        snarkjs.groth16_setup(r1cs, ptau.resolve(), first)
        state = {
            "ceremony_version": STATE_VERSION,
            "circuit_id": circuit_id,
            "source_hash": build.key,
            "optimization": f"O{build.optimization}",
            "compiler_version": build.compiler_version,
            "constraints": build.n_constraints,
            "public_signals": build.n_public,
            "r1cs_sha256": sha256_file(r1cs),
            "wasm_sha256": sha256_file(wasm),
            "ptau": {"path": str(ptau.resolve()), "sha256": ptau_sha256, "blake2b": blake2b,
                     "power": info.power, "known_as": known_ptau(blake2b)},
            "steps": [asdict(Step("setup", "groth16 setup", first.name, sha256_file(first)))],
        }
        _write_state(directory, state)
        return cls(directory)

    @property
    def circuit_id(self) -> str:
        return str(self.state["circuit_id"])

    @property
    def steps(self) -> list[Step]:
        return [Step(**step) for step in self.state["steps"]]

    @property
    def latest(self) -> Path:
        """The newest zkey, after checking it is the file the record lists."""
        step = self.steps[-1]
        path = self.directory / step.zkey
        if not path.is_file() or sha256_file(path) != step.sha256:
            raise InputError(f"{path} is missing or differs from the one {STATE_NAME} records")
        return path

    @property
    def r1cs(self) -> Path:
        return self.directory / f"{self.circuit_id}.r1cs"

    @property
    def ptau(self) -> Path:
        return Path(self.state["ptau"]["path"])

    def contribute(self, name: str, entropy: str) -> Step:
        """Add a secret contribution; ``entropy`` goes to snarkjs on stdin and nowhere else."""
        self._refuse_after_beacon()
        if not entropy:
            raise InputError("contribution entropy is empty")
        new = self._next_zkey()
        snarkjs.zkey_contribute(self.latest, new, name=name, entropy=entropy)
        return self._record(Step("contribution", name, new.name, sha256_file(new)))

    def beacon(self, name: str, beacon_hash: str, iterations_exp: int) -> Step:
        """Close the ceremony with a public random beacon (a value nobody could know in advance,
        e.g. a future block hash), hashed 2^``iterations_exp`` times."""
        self._refuse_after_beacon()
        if not any(step.kind == "contribution" for step in self.steps):
            raise InputError("a beacon alone is public: add at least one contribution first")
        if not _HEX.fullmatch(beacon_hash):
            raise InputError(f"beacon hash {beacon_hash!r} is not an even-length hex string")
        if beacon_hash.lower() == DEV_BEACON_HASH:
            raise InputError("the beacon hash is the dev beacon: use a value published after "
                             "the last contribution")
        if not MIN_BEACON_ITERATIONS_EXP <= iterations_exp <= MAX_BEACON_ITERATIONS_EXP:
            raise InputError(f"beacon iterations exponent {iterations_exp} is outside "
                             f"[{MIN_BEACON_ITERATIONS_EXP}, {MAX_BEACON_ITERATIONS_EXP}]")
        new = self._next_zkey()
        snarkjs.zkey_beacon(self.latest, new, beacon_hash=beacon_hash,
                            iterations_exp=iterations_exp, name=name)
        self.state["beacon"] = {"hash": beacon_hash.lower(), "iterations_exp": iterations_exp}
        return self._record(Step("beacon", name, new.name, sha256_file(new)))

    def verify(self) -> list[Contribution]:
        """``zkey verify`` of the newest zkey against the r1cs and ptau; its contributions, which
        must be the ones recorded (InputError otherwise, ProverError if snarkjs rejects it)."""
        if sha256_file(self.r1cs) != self.state["r1cs_sha256"]:
            raise InputError(f"{self.r1cs} differs from the r1cs the ceremony started with")
        found = parse_contributions(snarkjs.zkey_verify(self.r1cs, self.ptau, self.latest))
        recorded = [step.name for step in self.steps if step.kind != "setup"]
        if [c.name for c in found] != recorded:
            raise InputError(f"snarkjs lists contributions {[c.name for c in found]}, "
                             f"{STATE_NAME} records {recorded}")
        return found

    def export(self, out_dir: Path) -> KeySet:
        """Verify, then write ``<circuit>.zkey``, ``verification_key.json`` and a key manifest
        (prover.setup's fields plus a ``ceremony`` block) into ``out_dir``."""
        if self.steps[-1].kind != "beacon":
            raise InputError("the ceremony is not closed: run `zkmargin ceremony beacon` first")
        contributions = self.verify()
        out_dir.mkdir(parents=True, exist_ok=True)
        zkey, vk = out_dir / f"{self.circuit_id}.zkey", out_dir / VK_NAME
        shutil.copyfile(self.latest, zkey)
        snarkjs.export_vk(zkey, vk)
        ptau = self.state["ptau"]
        beacon = self.state["beacon"]
        manifest = key_manifest(
            inputs={
                "circuit_id": self.circuit_id,
                "source_hash": self.state["source_hash"],
                "r1cs_sha256": self.state["r1cs_sha256"],
                "wasm_sha256": self.state["wasm_sha256"],
                "ptau_sha256": ptau["sha256"],
                "beacon_hash": beacon["hash"],
                "beacon_iterations_exp": beacon["iterations_exp"],
            },
            zkey=zkey,
            vk=vk,
            ptau_file=Path(ptau["path"]).name,
            ptau_power=ptau["power"],
            constraints=self.state["constraints"],
            public_signals=self.state["public_signals"],
            optimization=self.state["optimization"],
            compiler_version=self.state["compiler_version"],
        )
        manifest["ceremony"] = {
            "ptau_blake2b": ptau["blake2b"],
            "ptau_known_as": ptau["known_as"],
            "contributions": [asdict(c) for c in contributions],
        }
        path = out_dir / MANIFEST_NAME
        write_manifest(path, manifest)
        return KeySet(self.circuit_id, zkey, vk, path, manifest, False, 0.0)

    def _next_zkey(self) -> Path:
        """Where the next step's zkey goes, after checking the folder takes it."""
        check_output_dir(self.directory, "ceremony folder")
        return self.directory / f"{self.circuit_id}_{len(self.steps):04d}.zkey"

    def _refuse_after_beacon(self) -> None:
        if self.steps[-1].kind == "beacon":
            raise InputError("the ceremony is closed by its beacon; export it or start anew")

    def _record(self, step: Step) -> Step:
        self.state["steps"].append(asdict(step))
        _write_state(self.directory, self.state)
        return step


def _write_state(directory: Path, state: dict[str, Any]) -> None:
    write_manifest(directory / STATE_NAME, state)
