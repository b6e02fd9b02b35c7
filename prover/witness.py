"""In-process witness generation: circom's generated wasm run by wasmtime, plus the .wtns format.

The wasm circom emits (``<name>_js/<name>.wasm``) talks to its host through a small protocol,
the one its ``witness_calculator.js`` implements: field elements travel through a "shared RW
memory" of ``getFieldNumLen32()`` little-endian 32-bit words; an input signal is addressed by the
64-bit FNV-1a hash of its name, split into high and low 32-bit halves; ``setInputSignal`` for the
last input runs the whole computation; ``getWitness(i)`` puts wire ``i`` in the shared memory.
The host provides four imports: ``exceptionHandler(code)`` (stop with an error),
``printErrorMessage()`` (an error text is ready), ``writeBufferMessage()`` (a ``log()`` piece is
ready) and ``showSharedRWMemory()`` (log the field element in the shared memory). Texts are read
one character at a time from ``getMessageChar()`` until it returns 0.

One :class:`WitnessCalculator` loads the wasm once and then serves any number of
``calculate`` calls, each in a fresh wasm instance (instantiation costs well under a
millisecond), so a failed run cannot leave state behind for the next one.

Loading: Cranelift needs seconds to compile circom's multi-megabyte wasm (5 to 20 s for the
margin circuits on 2 cores), once per process, far more than a witness takes. So the compiled
native code is kept in the per-user cache (:func:`compiled_module`) and later processes load it
in ~50 ms, mostly hashing the wasm to find it. Within a process, calculators of the same wasm
share one engine and one loaded module (:func:`loaded_module`), so a long-lived process (a test
session, a service) holds each circuit's native code once, not once per calculator. Cached code
is read into memory, never mapped from the cache file, so a cache entry replaced or truncated by
another process cannot fault a running one. Each ``calculate`` frees its wasm instance when it
returns, not when the garbage collector finds it.

Reading the witness: a call from Python into wasm costs about 10 us, which for 100k wires would
dwarf the computation itself (about 50 ms). So a tiny companion module (``COPY_WITNESS_WAT``),
linked to the circuit's own ``memory`` and ``getWitness`` exports, loops over the wires inside
wasm, copying each value out of the shared RW memory into fresh pages grown at the end of the
memory; Python then reads them all at once. The protocol is unchanged: still ``getWitness(i)``
followed by a read of the shared RW memory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import TypeAlias

import wasmtime

from prover.binfile import read_section_table, write_binfile
from prover.cache import cache_dir, sha256_file
from zkmargin.errors import InputError, ProverError

WTNS_MAGIC = b"wtns"
WTNS_VERSION = 2
WTNS_HEADER_SECTION = 1
WTNS_VALUES_SECTION = 2

FNV64_OFFSET = 0xCBF29CE484222325
FNV64_PRIME = 0x100000001B3
_U64_MASK = (1 << 64) - 1

CIRCOM_ERRORS = {
    1: "Signal not found",
    2: "Too many signals set",
    3: "Signal already set",
    4: "Assert Failed",
    5: "Not enough memory",
    6: "Input signal array access exceeds the size",
    7: "Out of bounds array access",
}
"""exceptionHandler codes of circom 2's wasm runtime, with the texts its JS host uses."""

InputValue: TypeAlias = int | Sequence["InputValue"]
"""An input signal's value: an integer, or (for an array signal) nested lists of integers."""

COPY_WITNESS_WAT = """
(module
  (import "circuit" "memory" (memory 1))
  (import "circuit" "getWitness" (func $getWitness (param i32)))
  (func (export "copyWitness") (param $shared i32) (param $dst i32) (param $count i32) (param $bytes i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (call $getWitness (local.get $i))
        (memory.copy (local.get $dst) (local.get $shared) (local.get $bytes))
        (local.set $dst (i32.add (local.get $dst) (local.get $bytes)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))
"""
"""Companion module: copyWitness(shared, dst, count, bytes) stores wires 0..count-1 at dst."""

WASM_PAGE = 65536
WASMTIME_VERSION = version("wasmtime")

logger = logging.getLogger(__name__)


class WitnessError(ProverError):
    """circom's witness code stopped: a failed ``assert``, a ``===`` violated at witness time."""

    def __init__(self, reason: str, circom_message: str) -> None:
        self.reason = reason
        self.circom_message = circom_message
        super().__init__(f"witness generation failed: {reason}. {circom_message}".strip())


class _CircomStop(Exception):
    """Raised by the exceptionHandler import to unwind out of the wasm call."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class WitnessCalculator:
    """A compiled circom witness wasm, reusable for any number of witness computations."""

    def __init__(self, wasm_path: Path) -> None:
        """Compile ``wasm_path`` (circom's ``<name>_js/<name>.wasm``); read its field and sizes."""
        self.wasm_path = wasm_path
        self._engine = shared_engine()
        try:
            self._module = loaded_module(wasm_path)
        except (OSError, wasmtime.WasmtimeError) as exc:
            raise ProverError(f"cannot load witness wasm {wasm_path}: {exc}") from exc
        self._copier = copier_module()
        with _Instance(self._module, self._engine) as probe:
            major = probe.call("getVersion")
            if major < 2:
                raise ProverError(f"{wasm_path} was built by circom {major}; circom 2 is required")
            self.circom_version = (major, probe.call("getMinorVersion"), probe.call("getPatchVersion"))
            """Version of the circom compiler that produced the wasm, e.g. (2, 2, 3)."""
            self.field_words = probe.call("getFieldNumLen32")
            """Size of one field element in 32-bit words (8 for BN254)."""
            probe.call("getRawPrime")
            self.prime = probe.read_shared(self.field_words)
            """The scalar field modulus every witness value is reduced by."""
            self.witness_size = probe.call("getWitnessSize")
            """Number of witness values, one per .r1cs wire (wire 0 is the constant 1)."""
            self.input_size = probe.call("getInputSize")
            """Number of input field elements a complete input assigns (array signals count each)."""

    def calculate(self, inputs: Mapping[str, InputValue]) -> list[int]:
        """The witness for ``inputs`` (signal name -> int or nested lists), reduced mod prime.

        Negative integers are encoded as ``prime - |x|``. An unknown signal name or a wrong number
        of values raises InputError; a failing ``assert``/constraint in circom's witness code
        raises WitnessError carrying circom's message (template and line).
        """
        with _Instance(self._module, self._engine) as run:
            return self._run(run, inputs)

    def _run(self, run: _Instance, inputs: Mapping[str, InputValue]) -> list[int]:
        """``calculate`` in the fresh instance ``run``."""
        try:
            run.call("init", 1)
            assigned = sum(self._set_input(run, name, value) for name, value in inputs.items())
            if assigned < self.input_size:
                raise InputError(
                    f"only {assigned} of the circuit's {self.input_size} input values were given"
                )
            return run.read_witness(self._copier, self.witness_size, self.field_words)
        except _CircomStop as stop:
            reason = CIRCOM_ERRORS.get(stop.code, f"Unknown error {stop.code}")
            raise WitnessError(reason, run.error_text()) from None
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise WitnessError("wasm runtime error", str(exc)) from exc

    def _set_input(self, run: _Instance, name: str, value: InputValue) -> int:
        """Write every element of input signal ``name``; returns how many elements were set."""
        elements = _flatten(name, value)
        digest = fnv1a_64(name)
        high, low = digest >> 32, digest & 0xFFFFFFFF
        size = run.call("getInputSignalSize", high, low)
        if size <= 0:
            raise InputError(f"{name!r} is not an input signal of {self.wasm_path.name}")
        if len(elements) != size:
            raise InputError(f"input {name!r} takes {size} values, {len(elements)} were given")
        for position, element in enumerate(elements):
            run.write_shared(element % self.prime, self.field_words)
            run.call("setInputSignal", high, low, position)
        return size


class _Instance:
    """One wasm instance with the circom host imports wired to it, for one witness computation."""

    def __init__(self, module: wasmtime.Module, engine: wasmtime.Engine) -> None:
        self._store = wasmtime.Store(engine)
        self._errors: list[str] = []
        self._log_line: list[str] = []
        handlers: dict[str, Callable[..., None]] = {
            "exceptionHandler": self._stop,
            "printErrorMessage": self._print_error,
            "writeBufferMessage": self._write_buffer,
            "showSharedRWMemory": self._show_shared,
        }
        imports = []
        for item in module.imports:
            if item.module != "runtime" or item.name not in handlers:
                raise ProverError(f"witness wasm needs an unknown import {item.module}.{item.name}")
            assert isinstance(item.type, wasmtime.FuncType)
            imports.append(wasmtime.Func(self._store, item.type, handlers[item.name]))
        self._exports = wasmtime.Instance(self._store, module, imports).exports(self._store)
        memory = self._exports["memory"]
        assert isinstance(memory, wasmtime.Memory)
        self._memory = memory
        self._shared_start = self.call("getSharedRWMemoryStart")

    def __enter__(self) -> _Instance:
        return self

    def __exit__(self, *exc: object) -> None:
        """Free the store (instance, linear memory, host functions) now: the host functions are
        bound methods of this object, a cycle through wasmtime's C side that even ``gc.collect()``
        does not free (measured: each leaked instance kept ~4 GiB of address space)."""
        self._store.close()

    def call(self, export: str, *args: int) -> int:
        """Call the exported function ``export`` (results: an int, or 0 for void functions)."""
        function = self._exports[export]
        assert isinstance(function, wasmtime.Func)
        result = function(self._store, *args)
        return result if isinstance(result, int) else 0

    def read_shared(self, words: int) -> int:
        """The field element currently in the shared RW memory (little-endian 32-bit words)."""
        raw = self._memory.read(self._store, self._shared_start, self._shared_start + 4 * words)
        return int.from_bytes(raw, "little")

    def read_witness(self, copier: wasmtime.Module, count: int, words: int) -> list[int]:
        """Wires 0..count-1 after the computation, copied out in one call by ``copier``."""
        size = 4 * words
        first_new_page = self._memory.grow(self._store, -(-count * size // WASM_PAGE))
        destination = first_new_page * WASM_PAGE
        exports = wasmtime.Instance(
            self._store, copier, [self._memory, self._exports["getWitness"]]
        ).exports(self._store)
        copy_witness = exports["copyWitness"]
        assert isinstance(copy_witness, wasmtime.Func)
        copy_witness(self._store, self._shared_start, destination, count, size)
        raw = self._memory.read(self._store, destination, destination + count * size)
        return [int.from_bytes(raw[at : at + size], "little") for at in range(0, len(raw), size)]

    def write_shared(self, value: int, words: int) -> None:
        """Put ``value`` (already reduced) into the shared RW memory."""
        self._memory.write(self._store, value.to_bytes(4 * words, "little"), self._shared_start)

    def error_text(self) -> str:
        """Everything circom reported through printErrorMessage, one message per line."""
        return "\n".join(message.strip() for message in self._errors if message.strip())

    def _message(self) -> str:
        """Drain the text the wasm has ready, one getMessageChar() at a time."""
        chars = []
        while (char := self.call("getMessageChar")) != 0:
            chars.append(chr(char))
        return "".join(chars)

    def _stop(self, code: int) -> None:
        raise _CircomStop(code)

    def _print_error(self) -> None:
        self._errors.append(self._message())

    def _write_buffer(self) -> None:
        message = self._message()
        if message == "\n":
            logger.info("circom log: %s", " ".join(self._log_line))
            self._log_line.clear()
        else:
            self._log_line.append(message)

    def _show_shared(self) -> None:
        self._log_line.append(str(self.read_shared(self.call("getFieldNumLen32"))))


@cache
def shared_engine() -> wasmtime.Engine:
    """The process's wasmtime engine (default configuration), shared by every calculator."""
    return wasmtime.Engine()


@cache
def copier_module() -> wasmtime.Module:
    """``COPY_WITNESS_WAT`` compiled once per process for :func:`shared_engine`."""
    return wasmtime.Module(shared_engine(), COPY_WITNESS_WAT)


MODULES_LOADED = 8
"""Distinct circuit wasms whose native code a process keeps loaded (about 20 MB each)."""


def loaded_module(wasm_path: Path) -> wasmtime.Module:
    """``wasm_path`` compiled for :func:`shared_engine`: loaded once per process and cache entry.

    The in-process cache is keyed by the wasm's sha256 and the entry's size and modification
    time, so an entry rewritten since (by this or another process) is read again.
    """
    entry = cache_dir() / "wasmtime" / f"{sha256_file(wasm_path)}-{WASMTIME_VERSION}.cwasm"
    try:
        stat = entry.stat()
        stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = None
    return _loaded_module(entry, stamp, wasm_path)


@lru_cache(maxsize=MODULES_LOADED)
def _loaded_module(entry: Path, stamp: tuple[int, int] | None, wasm_path: Path) -> wasmtime.Module:
    """``stamp`` only keys the cache (None: no entry yet)."""
    return compiled_module(shared_engine(), wasm_path, entry)


def compiled_module(engine: wasmtime.Engine, wasm_path: Path, entry: Path) -> wasmtime.Module:
    """``wasm_path`` compiled for ``engine``, through the per-user cache entry ``entry``.

    Entries are ``<cache>/wasmtime/<wasm sha256>-<wasmtime version>.cwasm``. wasmtime refuses code
    serialized by another version or configuration; then the wasm is compiled again and the entry
    replaced (atomically). An entry is read into memory rather than mapped: a mapped file that
    another process truncates would kill this one with SIGBUS. Cached code runs natively when
    loaded, so the cache dir must be as trusted as the user's own files (as wasmtime's own cache).
    """
    if entry.is_file():
        with contextlib.suppress(wasmtime.WasmtimeError, OSError):
            return wasmtime.Module.deserialize(engine, entry.read_bytes())
    module = wasmtime.Module.from_file(engine, str(wasm_path))
    entry.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=entry.parent, suffix=".part", delete=False) as part:
        part.write(module.serialize())
    os.replace(part.name, entry)
    return module


def fnv1a_64(name: str) -> int:
    """64-bit FNV-1a hash of a signal name (over its character codes), as circom's hosts use it."""
    digest = FNV64_OFFSET
    for char in name:
        digest = ((digest ^ ord(char)) * FNV64_PRIME) & _U64_MASK
    return digest


def _flatten(name: str, value: InputValue) -> list[int]:
    """Row-major list of the integers in ``value``; InputError for anything but ints and lists."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [element for item in value for element in _flatten(name, item)]
    raise InputError(f"input {name!r}: expected an int or a list of ints, got {value!r}")


def write_wtns(path: Path, witness: Sequence[int], prime: int) -> None:
    """Write ``witness`` as a snarkjs .wtns file (version 2) for the field of ``prime``."""
    field_bytes = 8 * ((prime.bit_length() + 63) // 64)
    bad = next((i for i, value in enumerate(witness) if not 0 <= value < prime), None)
    if bad is not None:
        raise InputError(f"witness[{bad}] = {witness[bad]} is not a field element in [0, prime)")
    header = (
        field_bytes.to_bytes(4, "little")
        + prime.to_bytes(field_bytes, "little")
        + len(witness).to_bytes(4, "little")
    )
    values = b"".join(value.to_bytes(field_bytes, "little") for value in witness)
    write_binfile(
        path,
        WTNS_MAGIC,
        WTNS_VERSION,
        [(WTNS_HEADER_SECTION, header), (WTNS_VALUES_SECTION, values)],
    )


def read_wtns(path: Path) -> tuple[list[int], int]:
    """Read a snarkjs .wtns file: returns (witness values, field prime)."""
    with path.open("rb") as handle:
        table = read_section_table(handle, path, WTNS_MAGIC)
        header = table.read(handle, WTNS_HEADER_SECTION)
        values = table.read(handle, WTNS_VALUES_SECTION)
    field_bytes = int.from_bytes(header[:4], "little")
    if len(header) != 8 + field_bytes:
        raise InputError(f"{path}: header section has an unexpected length {len(header)}")
    prime = int.from_bytes(header[4 : 4 + field_bytes], "little")
    count = int.from_bytes(header[4 + field_bytes :], "little")
    if len(values) != count * field_bytes:
        raise InputError(
            f"{path}: expected {count} witness values, section holds {len(values)} bytes"
        )
    witness = [
        int.from_bytes(values[offset : offset + field_bytes], "little")
        for offset in range(0, len(values), field_bytes)
    ]
    return witness, prime
