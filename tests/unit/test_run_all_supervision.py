"""make run's supervisor: a process that exits is started again, after a pause that doubles with each exit in a row."""
import sys
import time

from scripts.run_all import Supervised, restart_pause
from tests.support import wait_for

EXITS_AT_ONCE = [sys.executable, "-c", "import sys; sys.exit(3)"]


def test_the_pause_doubles_from_one_second_up_to_a_minute():
    assert [restart_pause(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_an_exited_process_is_started_again_after_its_pause_and_the_exit_is_logged(tmp_path, capsys):
    supervised = Supervised("crashing", EXITS_AT_ONCE, tmp_path)
    first = supervised.process
    wait_for(lambda: first.poll() is not None, timeout=30, message="the first exit")
    now = time.time()
    supervised.supervise(now)
    assert supervised.restart_at == now + 1
    supervised.supervise(now + 0.5)
    assert supervised.process is first  # still pausing
    supervised.supervise(now + 1)
    second = supervised.process
    assert second is not first
    wait_for(lambda: second.poll() is not None, timeout=30, message="the second exit")
    supervised.supervise(now + 2)
    assert supervised.restart_at == now + 2 + 2  # the second exit in a row waits twice as long
    assert "crashing exited (code 3); starting it again in 1 s (exit 1 in a row)" in capsys.readouterr().err
    log = (tmp_path / "crashing.log").read_text()
    assert "run_all: crashing exited (code 3); starting it again in 2 s (exit 2 in a row)" in log


def test_a_process_that_ran_for_a_minute_starts_again_from_one_second(tmp_path):
    supervised = Supervised("crashing", EXITS_AT_ONCE, tmp_path)
    supervised.exits_in_a_row = 5
    wait_for(lambda: supervised.poll() is not None, timeout=30, message="the exit")
    now = supervised.started_at + 61
    supervised.supervise(now)
    assert supervised.exits_in_a_row == 1 and supervised.restart_at == now + 1
