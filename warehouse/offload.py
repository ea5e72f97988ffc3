"""A second process for a run's CPU-bound Python work, so that a run uses a second core.

DuckDB spreads each query over every core, but two stages of a run are Python, one core at a time: validating the
Great Expectations suites (pandas, python-stdnum once per ID number) and writing the cells of the .xlsx files
(xlsxwriter). Handed to this process, they run beside the SQL rules and beside the other files, and the import of
GX (about 4 s) is done here while the run still reads its sources (``start``).

One process, started on first use (or by ``start``) with ``spawn``: it shares nothing with this one but the
arguments and results it is sent (pickled: Arrow tables, plain data). It lives as long as this process, so a
Dagster code server pays its start once. On a machine with one core, or with ``inline()``, the work is done here
instead, when its result is asked for. If the process dies (killed, out of memory), the work it held is done here
again: a run never fails because of it.
"""

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

log = logging.getLogger(__name__)

_pool: ProcessPoolExecutor | None = None
_inline = False


def available() -> bool:
    """Whether work is handed to the second process (more than one core, and not ``inline()``)."""
    return not _inline and len(os.sched_getaffinity(0)) > 1


def start(warm: Callable[[], None]) -> None:
    """Start the process now, and have it call ``warm`` (a module-level function: what it imports is then ready
    when the work comes)."""
    if available():
        _executor().submit(warm)


class Task:
    """Work handed over: ``result()`` waits for it (or does it here, see the module's docstring)."""

    def __init__(self, fn: Callable, args: tuple, future: Future | None):
        self.fn, self.args, self.future = fn, args, future

    def result(self):
        if self.future is None:
            return self.fn(*self.args)
        try:
            return self.future.result()
        except BrokenProcessPool as err:
            log.warning("the second process stopped (%s); %s is done in this one", err, self.fn.__name__)
            _reset()
            return self.fn(*self.args)


def submit(fn: Callable, *args) -> Task:
    """Hand ``fn(*args)`` to the second process (``fn`` and ``args`` must pickle)."""
    if not available():
        return Task(fn, args, None)
    try:
        return Task(fn, args, _executor().submit(fn, *args))
    except BrokenProcessPool:
        _reset()
        return Task(fn, args, None)


@contextmanager
def inline() -> Iterator[None]:
    """Within the block, work is done in this process (tests of both ways)."""
    global _inline
    before, _inline = _inline, True
    try:
        yield
    finally:
        _inline = before


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    return _pool


def _reset() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
    _pool = None
