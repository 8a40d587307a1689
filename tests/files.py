"""Uploaded files for tests: real formats built here, and hostile ones."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile

from lib.uploads import minimal_pdf


def pdf_upload(name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, minimal_pdf("test scan"), content_type="application/pdf")


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x00\xff\xff\xff"  # one white pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def png_upload(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def exe_upload(name: str = "agreement.pdf") -> SimpleUploadedFile:
    """A Windows executable wearing a PDF's name."""
    return SimpleUploadedFile(name, b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, content_type="application/pdf")


def docx_bytes(*, macro: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        if macro:
            z.writestr("word/vbaProject.bin", b"\x00" * 10)
    return buffer.getvalue()


def compound_file(tree: dict) -> bytes:
    """A Compound File (OLE2, the container of .doc and .xls) holding ``tree``: names mapping to bytes
    (streams) or to dicts (storages). Streams are padded to 4,096 bytes so that they all live in
    ordinary sectors (no mini stream); enough for a reader to walk the storages and streams."""
    sector = 512
    free, end_of_chain, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    entries: list[dict] = [{"name": "Root Entry", "kind": 5, "children": []}]
    streams: list[tuple[int, bytes]] = []

    def add(tree: dict, parent: int) -> None:
        for name, value in tree.items():
            index = len(entries)
            entries[parent]["children"].append(index)
            if isinstance(value, dict):
                entries.append({"name": name, "kind": 1, "children": []})
                add(value, index)
            else:
                data = value.ljust(4096, b"\x00")
                entries.append({"name": name, "kind": 2, "children": [], "size": len(value)})
                streams.append((index, data))

    add(tree, 0)
    # Sectors: directory first, then each stream, then the FAT itself.
    dir_bytes_per_sector = sector // 128
    dir_sectors = -(-len(entries) // dir_bytes_per_sector)
    chains: list[int] = []
    next_sector = dir_sectors
    for index, data in streams:
        entries[index]["start"] = next_sector
        count = len(data) // sector
        chains.append(count)
        next_sector += count
    fat_start = next_sector
    fat = list(range(1, dir_sectors)) + [end_of_chain]
    position = dir_sectors
    for count in chains:
        fat.extend(list(range(position + 1, position + count)) + [end_of_chain])
        position += count
    fat.append(fat_sector)
    fat.extend([free] * (sector // 4 - len(fat)))
    assert len(fat) == sector // 4, "keep test files under one FAT sector"

    def right_sibling(i: int) -> int:
        for entry in entries:
            siblings = entry["children"]
            if i in siblings and siblings.index(i) + 1 < len(siblings):
                return siblings[siblings.index(i) + 1]
        return free

    def entry_bytes(i: int, entry: dict) -> bytes:
        # Siblings as a chain to the right, all black: a valid red-black tree for a reader.
        name = entry["name"].encode("utf-16-le") + b"\x00\x00"
        child = entry["children"][0] if entry["children"] else free
        start = entry.get("start", end_of_chain)
        return (
            name.ljust(64, b"\x00")
            + struct.pack("<HBB", len(name), entry["kind"], 1)
            + struct.pack("<III", free, right_sibling(i), child)
            + b"\x00" * 36  # class id, state bits, creation and modification times
            + struct.pack("<IQ", start, entry.get("size", 0))
        )

    directory = b"".join(entry_bytes(i, e) for i, e in enumerate(entries))
    directory = directory.ljust(dir_sectors * sector, b"\x00")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 0, 0, 4096, end_of_chain, 0, end_of_chain, 0)
        + struct.pack("<I", fat_start)
        + struct.pack("<I", free) * 108
    )
    body = directory + b"".join(data for _i, data in streams) + struct.pack(f"<{len(fat)}I", *fat)
    return header.ljust(sector, b"\x00") + body


def legacy_office_upload(name: str = "agreement.doc", *, macros: bool) -> SimpleUploadedFile:
    tree: dict = {"WordDocument": b"\xec\xa5" + b"text", "1Table": b"table"}
    if macros:
        tree["Macros"] = {
            "PROJECT": b'ID="{00000000-0000-0000-0000-000000000000}"\r\nDocument=ThisDocument/&H00000000\r\n',
            "VBA": {"dir": b"\x01compressed", "_VBA_PROJECT": b"\xcc\x61\xff\xff\x00", "ThisDocument": b"\x01code"},
        }
    return SimpleUploadedFile(name, compound_file(tree), content_type="application/msword")
