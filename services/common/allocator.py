"""glibc's malloc held to two arenas in a service process.

glibc gives each thread that allocates an arena of its own and keeps what was freed in it for that arena. The search
replica calls DuckDB from eventlet's pool of twenty native threads, and the rows it hands over (an import's steps)
are built in whichever thread runs the step: each thread's arena grew to the largest step it built and stayed there.
In a 2,000,000-line import the replica held 553–585 MB at its peak; with two arenas, 490 MB (and 405–418 MB during
the import against 440–510), for no measurable CPU (docs/performance.md). Set with ``mallopt(M_ARENA_MAX)`` before
the service starts its threads, so that the setting holds without an environment variable (``MALLOC_ARENA_MAX``
says the same and, when set, is left to decide).

``trim()`` hands back to the system what the arenas hold freed (``malloc_trim``): the replica calls it after each
step that followed something. Without it the replica's arenas kept the largest steps' rows after they were freed, and
its memory rose with the import: 502 MB at the peak of a 2,000,000-line import in batches of 2,000, 446 MB with it.
"""
import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2


def _libc():
    name = ctypes.util.find_library("c")
    try:
        return None if name is None else ctypes.CDLL(name)
    except OSError:
        return None


_LIBC = _libc()


def cap_arenas():
    """Hold this process's malloc to ARENAS arenas; True when done (glibc), False elsewhere or when the environment
    says otherwise."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    mallopt = getattr(_LIBC, "mallopt", None)  # glibc's only
    return mallopt is not None and mallopt(M_ARENA_MAX, ARENAS) == 1


def trim():
    """Hand back to the system the memory malloc holds freed, in every arena; True when some was (glibc), False when
    none was or elsewhere."""
    malloc_trim = getattr(_LIBC, "malloc_trim", None)
    return malloc_trim is not None and malloc_trim(0) == 1
