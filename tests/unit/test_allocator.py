"""A service process's malloc held to two arenas (services/common/allocator.py), in processes of their own."""
import os
import subprocess
import sys

from services.common.config import ROOT


def python(code, **env):
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in dict(os.environ, **env).items() if v is not None})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_glibc_takes_the_setting():
    assert python("from services.common import allocator; print(allocator.cap_arenas())",
                  MALLOC_ARENA_MAX=None) == "True"


def test_the_environment_decides_when_it_says_something():
    assert python("from services.common import allocator; print(allocator.cap_arenas())",
                  MALLOC_ARENA_MAX="4") == "False"


def test_a_system_without_a_c_library_to_find_is_left_alone():
    assert python("import ctypes.util; ctypes.util.find_library = lambda name: None; "
                  "from services.common import allocator; print(allocator.cap_arenas())",
                  MALLOC_ARENA_MAX=None) == "False"


def test_memory_freed_is_handed_back():
    assert python("from services.common import allocator\n"
                  "held = [bytearray(4000) for _ in range(20000)]  # malloc's, not Python's small-object arenas\n"
                  "del held\n"
                  "print(allocator.trim())", MALLOC_ARENA_MAX=None) == "True"
    assert python("import ctypes.util; ctypes.util.find_library = lambda name: None; "
                  "from services.common import allocator; print(allocator.trim())") == "False"
