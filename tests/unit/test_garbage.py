"""The collector's settings of ``python -m services`` (services/common/garbage.py), in processes of their own."""
import subprocess
import sys

from services.common.config import ROOT


def python(code):
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_every_command_runs_with_the_collector_set_for_batches():
    # an unknown command prints the usage and returns 2, after the settings
    assert python("import gc; from services.__main__ import main; "
                  "assert main(['no-such-command']) == 2; print(*gc.get_threshold())")[-3:] == ["10000", "10", "10"]


def test_what_a_process_made_at_start_is_left_out_of_later_collections():
    before, after, young = python(
        "import gc; import services.purchases.service; from services.common import garbage; "
        "print(gc.get_freeze_count()); garbage.freeze_startup(); "
        "print(gc.get_freeze_count()); print(gc.get_count()[0])")
    assert before == "0"
    assert int(after) > 10_000  # a service's modules, their functions, classes and schemas
    assert int(young) < 100  # collected first: only what came after is the collector's again


def test_the_connector_runs_with_the_collector_set_for_reading():
    # its usage error comes from the connector's own parser, after the settings
    assert python("import gc, sys; from services.__main__ import main\n"
                  "try:\n    main(['import'])\nexcept SystemExit:\n    pass\n"
                  "print(*gc.get_threshold())")[-3:] == ["200000", "10", "10"]
