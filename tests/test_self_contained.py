"""The repository explains itself: no file points at documents that live outside it."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Spelled in pieces so that this file does not match itself.
OUTSIDE = ("DESIGN" + ".md", "DOMAIN" + ".md", "STYLE" + ".md", "../" + "shared/", "seed-report" + "-2020")


def test_no_file_points_outside_the_repository():
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    found = []
    for name in filter(None, names):
        path = ROOT / name
        if not path.is_file() or path.suffix in {".xlsx", ".png", ".ico", ".mo", ".pdf", ".woff2"}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{name}: {word}" for word in OUTSIDE if word in text]
    assert not found, "\n".join(found)
