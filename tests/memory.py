"""Peak memory of a block of code, read from Linux's own accounting (no tracing overhead)."""

from __future__ import annotations

import contextlib
import ctypes
import gc
from pathlib import Path

import pytest

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def _kb(field: str) -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class PeakMemory:
    """How far resident memory rose above where it was when the block began, in MB.

    Writing 5 to /proc/self/clear_refs resets the process's high-water mark (VmHWM), so the peak
    is this block's own, unlike ``ru_maxrss``, which remembers every earlier test.
    """

    def __enter__(self) -> PeakMemory:
        if not CLEAR_REFS.exists():
            pytest.skip("peak memory is read from Linux's /proc")
        # Hand memory freed by earlier tests back to the system first, or the block could reuse it
        # without the resident size rising and a leak would go unseen.
        gc.collect()
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        CLEAR_REFS.write_text("5")
        self.start_kb = _kb("VmRSS")
        return self

    def __exit__(self, *exc) -> None:
        self.rise_mb = (_kb("VmHWM") - self.start_kb) / 1024
