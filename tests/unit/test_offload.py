"""The second process (warehouse/offload.py): work runs there, or here when it cannot, and always gives its result."""

import os

import pytest

from warehouse import offload


def _pid_and(value):
    return os.getpid(), value


def _die_unless_in(pid: int) -> int:
    if os.getpid() != pid:
        os._exit(3)  # the second process dies holding the work
    return pid


def _fail(message: str):
    raise ValueError(message)


@pytest.fixture
def two_cores():
    if len(os.sched_getaffinity(0)) < 2:
        pytest.fail("these tests need two cores, as CI has")


def test_work_runs_in_another_process_and_comes_back(two_cores):
    pid, value = offload.submit(_pid_and, {"rows": [1, 2]}).result()
    assert pid != os.getpid() and value == {"rows": [1, 2]}


def test_inline_work_runs_here():
    with offload.inline():
        assert not offload.available()
        pid, _ = offload.submit(_pid_and, 1).result()
    assert pid == os.getpid()


def test_work_whose_process_died_is_done_here(two_cores):
    assert offload.submit(_die_unless_in, os.getpid()).result() == os.getpid()
    pid, _ = offload.submit(_pid_and, 2).result()  # a new process takes the next work
    assert pid != os.getpid()


def test_an_error_in_the_work_reaches_the_caller(two_cores):
    task = offload.submit(_fail, "rule R-X: no such column")
    with pytest.raises(ValueError, match="rule R-X: no such column"):
        task.result()
