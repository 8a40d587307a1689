"""The OLE compound file (MS-CFB) around an .xls, read by olefile and held to what calamine will read.

olefile (maintained; the reader under oletools) parses the header, the FAT and its DIFAT, the
MiniFAT, the directory and the streams: it replaced a container reader written here. What is still
checked here comes from the container being read twice, by olefile for the pre-scan and then by
calamine's own reader (``src/cfb.rs``), which trusts the file entirely:

- What would not end, or asks for memory the file does not justify. calamine follows every sector
  chain until it ends (one that loops never does: a looping directory chain grew until the process
  was out of memory), grows its buffer to any sector number it meets, and reserves a header's and a
  directory entry's sizes up front; olefile followed a DIFAT chain pointing at itself for minutes.
  So the header's counts, every sector number a chain holds and every size are held to the file's.
- Where the two would read different bytes. calamine takes the first directory entry in stored
  order named "Workbook" (else "Book"; the name up to its first NUL, whatever its type or its
  place in the tree), and builds the FAT from every sector number of the DIFAT; olefile follows the
  tree and stops at the DIFAT's first free slot. A container where these could differ is refused as
  corrupt: no spreadsheet program writes one.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import IO

import olefile
from django.utils.translation import gettext as _

from lib.spreadsheets.base import ImportRefused, corrupt

ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
_RESERVED = 0xFFFFFFFA  # calamine follows a DIFAT chain until a number from here up
_MINI_CUTOFF = 4096  # streams shorter than this live in the mini stream
_WORKBOOK_NAMES = ("Workbook", "Book")  # calamine's order
_VBA_STORAGES = {"_VBA_PROJECT_CUR", "_VBA_PROJECT", "VBA", "Macros"}


class _BoundedOleFile(olefile.OleFileIO):
    """olefile, refusing a header that counts more sectors than the file holds before it follows
    them (``loadfat`` runs right after the header is read). One MiniFAT sector maps 16 sectors'
    worth of mini stream: more than that for the whole file is not a spreadsheet program's."""

    def loadfat(self, header: bytes) -> None:
        counts = (self.num_fat_sectors, self.num_difat_sectors, self.num_dir_sectors)
        if max(counts) > self.nb_sect or self.num_mini_fat_sectors > self.nb_sect // 16 + 1:
            raise OSError("the header counts more sectors than the file holds")
        super().loadfat(header)


def open_ole(handle: IO[bytes]) -> olefile.OleFileIO:
    handle.seek(0)
    try:
        return _BoundedOleFile(handle)
    except Exception:  # olefile raises OSError, and struct, index or recursion errors on bad input
        raise corrupt() from None


def refuse_encrypted_or_macros(ole: olefile.OleFileIO) -> None:
    # Office keeps a password-protected xlsx in OLE, as these two streams.
    if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
        raise ImportRefused(
            _("文件设置了打开密码（已加密），无法读取。请在 Excel 中取消密码后另存为 .xlsx 再导入。"),
            code="encrypted",
        )
    if any(_VBA_STORAGES & set(path) for path in ole.listdir(streams=True, storages=True)):
        raise vba_macros()


def vba_macros() -> ImportRefused:
    return ImportRefused(_("文件含有宏(VBA)，已拒绝。请删除宏后另存为 .xlsx 再导入。"), code="macro_enabled")


def workbook_stream(ole: olefile.OleFileIO, handle: IO[bytes], size: int) -> bytes | None:
    """The bytes calamine will read as the workbook; ``None`` if it will find none."""
    _check_difat(ole, handle)
    _follow(ole.first_dir_sector, ole.fat)
    if ole.num_mini_fat_sectors:
        if ole.root is None or ole.root.size > size:
            raise corrupt()
        _follow(ole.first_mini_fat_sector, ole.fat)
        _follow(ole.root.isectStart, ole.fat)
    entry = _calamine_entry(ole)
    if entry is None:
        return None
    if entry.size > size:
        raise corrupt()
    if entry.size < _MINI_CUTOFF:
        if not ole.num_mini_fat_sectors:
            raise corrupt()
        if ole.minifat is None:
            ole.loadminifat()
        _follow(entry.isectStart, ole.minifat)
    else:
        _follow(entry.isectStart, ole.fat)
    return ole.openstream(entry.name).read()


def _follow(start: int, table: Sequence[int]) -> None:
    """Refuse a sector chain that does not end: a number outside the table (calamine grows its
    buffer to it, or panics) or a loop (calamine follows it for ever)."""
    sector, steps = start, 0
    while sector != ENDOFCHAIN:
        if sector >= len(table) or steps >= len(table):
            raise corrupt()
        sector, steps = table[sector], steps + 1


def _check_difat(ole: olefile.OleFileIO, handle: IO[bytes]) -> None:
    """The DIFAT as both read it: sector numbers first, then only free slots, in the header's 109
    and in each DIFAT sector, and exactly as many DIFAT sectors as the header counts."""
    handle.seek(0)
    _sectors_then_free(struct.unpack_from("<109I", handle.read(512), 0x4C), ole.nb_sect)
    sector, seen = ole.first_difat_sector, 0
    while sector < _RESERVED:
        if sector >= ole.nb_sect or seen >= ole.num_difat_sectors:
            raise corrupt()
        entries = struct.unpack(f"<{ole.sectorsize // 4}I", ole.getsect(sector))
        _sectors_then_free(entries[:-1], ole.nb_sect)
        sector, seen = entries[-1], seen + 1
    if seen != ole.num_difat_sectors:
        raise corrupt()


def _sectors_then_free(numbers: Sequence[int], sectors: int) -> None:
    free = False
    for number in numbers:
        if number in (FREESECT, ENDOFCHAIN):
            free = True
        elif free or number >= sectors:
            raise corrupt()


def _calamine_entry(ole: olefile.OleFileIO):
    """The directory entry calamine reads as the workbook, if it is also the one olefile's tree
    leads to (the only entry of that name, a stream in the root storage); ``None`` if there is none."""
    ole.directory_fp.seek(0)
    raw = ole.directory_fp.read()
    names = [raw[at : at + 64].decode("utf-16-le", "replace").split("\x00", 1)[0] for at in range(0, len(raw), 128)]
    for wanted in _WORKBOOK_NAMES:
        matches = [sid for sid, name in enumerate(names) if name.casefold() == wanted.casefold()]
        if not matches:
            continue
        entry = ole.direntries[matches[0]] if matches[0] < len(ole.direntries) else None
        if len(matches) > 1 or entry is None or entry.name != wanted or entry.entry_type != olefile.STGTY_STREAM:
            raise corrupt()
        return entry
    return None
