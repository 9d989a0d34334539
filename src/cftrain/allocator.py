"""Keep freed memory in the process, so large short-lived tensors do not page-fault.

A stacked search allocates and frees megabytes of activations at every step (issue 25).
glibc serves blocks above its mmap threshold with fresh mappings and returns freed heap
tops to the system, so each step faults its memory in again: about a million page faults
in a 96-cell moons run, an eighth of its time. Raising the mmap threshold to glibc's
maximum and the trim threshold far above it lets freed blocks be reused instead
(benchmarks/results/grid.json: ``page_faults_*``). Numbers do not change.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: glibc refuses an mmap threshold above half its 64 MiB heap size (64-bit)
MMAP_THRESHOLD = 32 << 20
#: mallopt takes a C int
TRIM_THRESHOLD = 2**31 - 1


def keep_freed_memory() -> bool:
    """Tune glibc's allocator of this process as above; ``False`` where it is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mmap = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    trim = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    return bool(mmap and trim)
