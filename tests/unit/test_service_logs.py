"""The scan of the services' logs after the suite: which records fail it, and how a test declares the ones it
provokes on purpose."""
import pytest

from tests.support import ServiceLogs

QUIET = "2026-12-02 10:00:00,001 INFO nameko.runners: starting services\n"
EXPECTED_WARNING = (
    "2026-12-02 10:00:01,002 WARNING nameko.containers: (expected) error handling worker <WorkerContext "
    "[customers.get_customer] at 0x1>: customer not found\n"
    "Traceback (most recent call last):\n"
    '  File "services/customers/customers.py", line 41, in get_customer\n'
    "services.common.errors.NotFound: customer not found\n")
UNIQUE_VIOLATION = (
    "2026-12-02 10:00:02,003 ERROR services.search.indexer: applying customer_created failed\n"
    "Traceback (most recent call last):\n"
    '  File "services/search/indexer.py", line 10, in apply\n'
    "sqlalchemy.exc.IntegrityError: duplicate key value violates unique constraint \"ix_customers_pkey\"\n")
CRASH = "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nKeyError: 'x'\n"


def logs_with(tmp_path, **files):
    for name, text in files.items():
        (tmp_path / f"{name}.log").write_text(text, encoding="utf-8")
    return ServiceLogs(tmp_path)


def test_info_and_the_services_declared_contract_errors_pass(tmp_path):
    logs_with(tmp_path, customers=QUIET + EXPECTED_WARNING + QUIET).check()


def test_an_error_record_fails_and_the_message_shows_it_with_its_traceback(tmp_path):
    logs = logs_with(tmp_path, customers=QUIET, search=QUIET + UNIQUE_VIOLATION + QUIET)
    with pytest.raises(AssertionError) as failed:
        logs.check()
    message = str(failed.value)
    assert "1 error record(s)" in message and "--- search.log" in message
    assert "ERROR services.search.indexer: applying customer_created failed" in message
    assert "duplicate key value violates unique constraint" in message
    assert "starting services" not in message


def test_a_traceback_outside_any_record_or_under_an_info_record_fails(tmp_path):
    logs = logs_with(tmp_path, shops=CRASH + QUIET, purchases=QUIET + CRASH)
    assert [name for name, _ in logs.unexpected()] == ["purchases.log", "shops.log"]


def test_a_declared_error_passes_only_when_it_comes_after_the_declaration(tmp_path):
    logs = logs_with(tmp_path, search=UNIQUE_VIOLATION)
    logs.expect("unique constraint", "test_x")
    with (tmp_path / "search.log").open("a", encoding="utf-8") as log:
        log.write(UNIQUE_VIOLATION)
    found = logs.unexpected()
    assert len(found) == 1, "the record written before the declaration still fails"
    assert logs.expected[0][3] == 1, "the one written after it is the declared one"


def test_a_declaration_that_never_finds_anything_fails(tmp_path):
    logs = logs_with(tmp_path, search=QUIET)
    logs.expect("unique constraint", "tests/x.py::test_y")
    with pytest.raises(AssertionError) as failed:
        logs.check()
    assert "tests/x.py::test_y expected 'unique constraint'" in str(failed.value)


def test_a_long_traceback_is_shown_by_its_ends(tmp_path):
    frames = "".join(f'  File "f{i}.py", line {i}, in f\n' for i in range(40))
    logs = logs_with(tmp_path, search=UNIQUE_VIOLATION.replace("Traceback (most recent call last):\n",
                                                               "Traceback (most recent call last):\n" + frames))
    with pytest.raises(AssertionError) as failed:
        logs.check()
    message = str(failed.value)
    assert "applying customer_created failed" in message and "duplicate key value" in message
    assert "f20.py" not in message and "  ..." in message
