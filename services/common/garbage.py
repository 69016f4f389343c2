"""Python's cyclic garbage collector, set for processes that handle records by the thousand.

CPython looks for reference cycles after every 700 container objects made (its youngest generation) and goes through
older objects every tenth and hundredth time. A batch of 500 orders makes tens of thousands of such objects (the
orders and their lines as dicts, rows, events, their JSON), nearly all freed by reference counting alone, so the
collector ran hundreds of times a batch to find next to nothing and went through every object the process had made
since it started. In a 300,000-line import that was 15 % of each process's CPU (the purchases service 2.4 s of
13.5, the search service 3.1 of 19.2, the connector 0.9 of 6.4; docs/performance.md).

``tune()`` (every command of ``python -m services``) has the collector run after 10,000 new container objects instead
of 700, its older generations after ten such runs each as before: a few collections a batch instead of hundreds.
``freeze_startup()``, once a process has started (modules, the service's containers, engines and schemas made), puts
what it made so far out of the collector's sight for good: those objects live as long as the process, and no later
collection goes through them again. Higher thresholds (50,000, then 20 and 50 runs) cost no less CPU and let cycles
wait longer: the purchases and customers services held 235 and 223 MB at the end of a 2,000,000-line import against
148 and 161 with these.

``tune_reader()`` is for the connector, a process that reads a file and sends it on: it makes no cycles worth
looking for (its rows and records are freed by reference counting once their batch is answered), and a row of a
受注CSV is a tuple of 80 cells that every collection it lives to see goes through. After every 10,000 objects that was
a quarter of its CPU (2.3 s of 9.0 in a 300,000-line import); it runs once 200,000 more container objects are alive
than at the last run (a few batches' rows), which in an import is about never.
"""
import gc

THRESHOLDS = (10_000, 10, 10)
READER_THRESHOLDS = (200_000, 10, 10)


def tune():
    gc.set_threshold(*THRESHOLDS)


def tune_reader():
    gc.set_threshold(*READER_THRESHOLDS)


def freeze_startup():
    """Collect once, then leave every object alive now out of later collections."""
    gc.collect()
    gc.freeze()
