"""Compiling a circom circuit to .r1cs, .sym and witness .wasm, with a content-keyed build cache.

A build lives in ``<build_root>/<main stem>/`` next to a marker ``build.json`` holding its cache
key. The key is the sha256 of: the main file; every ``.circom`` file below the main file's folder
and below each include dir that belongs to the project (anything inside a ``node_modules``
folder is left out, and the pinned circom2 and circomlib versions from package-lock.json stand
in for it); and the compiler flags. Include dirs enter the key by name (from node_modules on, or
their folder name), never by absolute path, so the key is the same in every checkout. A second
compile with the same key reuses the build; any edit to a project source or a flag recompiles.
Processes compiling the same circuit into the same build root take turns (a file lock), so a
pool of workers starting cold compiles once.

Optimization levels: circom's default ``--O1`` only substitutes signal = signal and
signal = constant, so every named signal keeps its witness slot (what hand-edited-witness tests
address); ``--O2`` also eliminates linear constraints, for fewer constraints and faster proving.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from prover.cache import exclusive_lock
from prover.r1cs import R1csHeader, read_r1cs_header
from prover.toolchain import PROJECT_ROOT, circom2_command, locked_version, run_tool
from zkmargin.errors import InputError, ProverError

Optimization = Literal[1, 2]
"""circom simplification level: 1 = ``--O1`` (default), 2 = ``--O2`` (full linear elimination)."""

BUILD_MARKER = "build.json"
BUILD_LOCK = ".build.lock"
CURVE = "bn128"
KEY_SCHEME = "zkmargin-build-v1"
"""Changes whenever the cache key is computed differently, so old builds are not reused."""


@dataclass(frozen=True)
class CircuitBuild:
    """The compiled artefacts of one circuit and what they contain."""

    name: str
    main: Path
    out_dir: Path
    r1cs: Path
    wasm: Path
    sym: Path
    key: str
    """Build cache key (hex sha256), also the key manifest's source hash."""
    optimization: Optimization
    compiler_version: str
    """circom compiler version that produced the build, e.g. '2.2.3'."""
    header: R1csHeader
    cached: bool
    """True when the build was reused from an earlier compile with the same key."""
    seconds: float
    """Wall time of this call: compiling, or only checking the cache on a hit."""

    @property
    def n_constraints(self) -> int:
        """Number of R1CS constraints."""
        return self.header.n_constraints

    @property
    def n_public(self) -> int:
        """Number of public signals (outputs + public inputs)."""
        return self.header.n_public


def compile_circuit(
    main: Path,
    *,
    include_dirs: Sequence[Path],
    build_root: Path,
    optimization: Optimization = 1,
) -> CircuitBuild:
    """Compile ``main`` (a file with ``component main``) unless an identical build is cached.

    ``include_dirs`` are circom ``-l`` library paths, searched in order. The project's pinned
    circom2 compiles; a compile error raises ProverError quoting circom's message.
    """
    started = time.monotonic()
    main = main.resolve()
    if not main.is_file():
        raise InputError(f"circuit file {main} does not exist")
    libraries = [directory.resolve() for directory in include_dirs]
    missing = [str(directory) for directory in libraries if not directory.is_dir()]
    if missing:
        raise InputError(f"include dirs do not exist: {', '.join(missing)}")
    key = build_key(main, libraries, optimization)
    out_dir = build_root.resolve() / main.stem
    marker = out_dir / BUILD_MARKER
    with exclusive_lock(out_dir / BUILD_LOCK):
        cached = _cached_compiler_version(marker, key)
        if cached is None:
            marker.unlink(missing_ok=True)
            compiler_version = _compile(main, libraries, out_dir, optimization)
            marker.write_text(
                json.dumps(
                    {"key": key, "compiler_version": compiler_version, "main": str(main)},
                    indent=1,
                ),
                encoding="utf-8",
            )
        else:
            compiler_version = cached
    r1cs, wasm, sym = _artefacts(out_dir, main.stem)
    return CircuitBuild(
        name=main.stem,
        main=main,
        out_dir=out_dir,
        r1cs=r1cs,
        wasm=wasm,
        sym=sym,
        key=key,
        optimization=optimization,
        compiler_version=compiler_version,
        header=read_r1cs_header(r1cs),
        cached=cached is not None,
        seconds=time.monotonic() - started,
    )


def build_key(main: Path, include_dirs: Sequence[Path], optimization: Optimization) -> str:
    """The cache key (hex sha256) of compiling ``main`` with these include dirs and flags."""
    digest = hashlib.sha256()

    def feed(label: str, payload: bytes) -> None:
        digest.update(f"{label}:{len(payload)}:".encode())
        digest.update(payload)

    feed("scheme", KEY_SCHEME.encode())
    feed("main", main.name.encode())
    feed("main-source", main.read_bytes())
    for position, directory in enumerate(_project_dirs(main, include_dirs)):
        for source in _circom_sources(directory):
            feed(f"source-{position}", source.relative_to(directory).as_posix().encode())
            feed("content", source.read_bytes())
    feed("flags", f"--prime {CURVE} --O{optimization}".encode())
    for directory in include_dirs:
        feed("library", _library_label(directory).encode())
    for package in ("circom2", "circomlib"):
        feed(package, locked_version(PROJECT_ROOT, package).encode())
    return digest.hexdigest()


def _compile(
    main: Path, include_dirs: Sequence[Path], out_dir: Path, optimization: Optimization
) -> str:
    """Run circom; returns the compiler version. circom2 resolves paths relative to its working
    directory and cannot climb out of it with '..', so it runs from the filesystem root."""
    circom = circom2_command()
    anchor = Path(main.anchor)
    run_tool(
        [
            *circom,
            main,
            "--r1cs",
            "--wasm",
            "--sym",
            "-o",
            out_dir,
            *_flags(include_dirs, optimization),
        ],
        cwd=anchor,
        what=f"circom {main.name}",
    )
    version = run_tool([*circom, "--version"], cwd=anchor, what="circom --version").stdout
    match = re.search(r"circom compiler (\S+)", version)
    if match is None:
        raise ProverError(f"cannot read the circom compiler version from {version!r}")
    return match.group(1)


def _flags(include_dirs: Sequence[Path], optimization: Optimization) -> list[str]:
    """Compiler flags besides inputs and outputs: field, optimization, library paths."""
    flags = ["--prime", CURVE, f"--O{optimization}"]
    for directory in include_dirs:
        flags += ["-l", str(directory)]
    return flags


def _library_label(directory: Path) -> str:
    """A checkout-independent name for an include dir: its path from node_modules on if it is
    inside one (e.g. 'node_modules/circomlib/circuits'), else its folder name."""
    parts = directory.parts
    if "node_modules" in parts:
        start = len(parts) - 1 - parts[::-1].index("node_modules")
        return "/".join(parts[start:])
    return directory.name


def _artefacts(out_dir: Path, name: str) -> tuple[Path, Path, Path]:
    """Paths of the .r1cs, witness .wasm and .sym that circom writes for ``name``."""
    return (
        out_dir / f"{name}.r1cs",
        out_dir / f"{name}_js" / f"{name}.wasm",
        out_dir / f"{name}.sym",
    )


def _cached_compiler_version(marker: Path, key: str) -> str | None:
    """The compiler version of the build behind ``marker`` if it has ``key`` and is complete."""
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if recorded.get("key") != key:
        return None
    if not all(path.is_file() for path in _artefacts(marker.parent, marker.parent.name)):
        return None
    version = recorded.get("compiler_version")
    return version if isinstance(version, str) else None


def _project_dirs(main: Path, include_dirs: Sequence[Path]) -> list[Path]:
    """The main file's folder and the include dirs, minus any inside node_modules, deduplicated."""
    seen: list[Path] = []
    for directory in [main.parent, *include_dirs]:
        if "node_modules" not in directory.parts and directory not in seen:
            seen.append(directory)
    return seen


def _circom_sources(directory: Path) -> Iterator[Path]:
    """Every .circom file below ``directory`` (not inside node_modules), in a stable order."""
    for source in sorted(directory.rglob("*.circom")):
        if "node_modules" not in source.relative_to(directory).parts:
            yield source
