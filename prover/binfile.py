"""The iden3 binary container shared by .r1cs, .wtns, .zkey and .ptau files.

Layout (all integers little-endian): 4-byte magic, u32 version, u32 section count, then each
section as u32 type, u64 byte length, payload. Readers here locate sections by seeking, so a
150 MB .ptau header can be read without loading the file.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from zkmargin.errors import InputError

_FILE_HEADER = struct.Struct("<4sII")
_SECTION_HEADER = struct.Struct("<IQ")


@dataclass(frozen=True)
class SectionTable:
    """Where each section of an opened binary file lies: type -> (byte offset, byte length)."""

    path: Path
    version: int
    sections: dict[int, tuple[int, int]]

    def read(self, handle: BinaryIO, section: int) -> bytes:
        """The payload of ``section``; InputError naming the file if the section is absent."""
        if section not in self.sections:
            raise InputError(f"{self.path}: section {section} is missing")
        offset, length = self.sections[section]
        handle.seek(offset)
        payload = handle.read(length)
        if len(payload) != length:
            raise InputError(f"{self.path}: section {section} is truncated")
        return payload


def read_section_table(handle: BinaryIO, path: Path, magic: bytes) -> SectionTable:
    """Read the section directory of ``handle`` (opened from ``path``), checking the magic."""
    header = handle.read(_FILE_HEADER.size)
    if len(header) != _FILE_HEADER.size:
        raise InputError(f"{path}: too short to be a {magic.decode()} file")
    found, version, count = _FILE_HEADER.unpack(header)
    if found != magic:
        raise InputError(f"{path}: not a {magic.decode()} file (magic {found!r})")
    sections: dict[int, tuple[int, int]] = {}
    offset = _FILE_HEADER.size
    for _ in range(count):
        handle.seek(offset)
        raw = handle.read(_SECTION_HEADER.size)
        if len(raw) != _SECTION_HEADER.size:
            raise InputError(f"{path}: section directory is truncated")
        section, length = _SECTION_HEADER.unpack(raw)
        if section in sections:
            raise InputError(f"{path}: section {section} appears twice")
        offset += _SECTION_HEADER.size
        sections[section] = (offset, length)
        offset += length
    return SectionTable(path, version, sections)


def write_binfile(
    path: Path, magic: bytes, version: int, sections: Iterable[tuple[int, bytes]]
) -> None:
    """Write a binary container with the given (section type, payload) list, in that order."""
    body = [(section, payload) for section, payload in sections]
    with path.open("wb") as handle:
        handle.write(_FILE_HEADER.pack(magic, version, len(body)))
        for section, payload in body:
            handle.write(_SECTION_HEADER.pack(section, len(payload)))
            handle.write(payload)
