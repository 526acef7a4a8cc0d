"""The --jobs worker pool on its own: order, bounds, errors, dead workers, and ending from any state."""

import os
import signal
import time
from pathlib import Path

import pytest

from nkclassify.errors import WorkerError
from nkclassify.workers import AHEAD, Workers


def _gone(pids: list[int]) -> bool:
    """Every one of these processes has ended and been reaped (not even a zombie is left)."""
    return not any(Path(f"/proc/{pid}").exists() for pid in pids)


def _pids(workers: Workers) -> list[int]:
    return [worker.pid for worker in workers._workers]


def _slow_square(n: int) -> int:
    time.sleep(0.002 * (n % 5))  # later tasks often finish first
    return n * n


def test_results_come_in_task_order_with_a_bounded_number_out():
    taken = []

    def tasks():
        for n in range(60):
            taken.append(n)
            yield n

    with Workers(_slow_square, 3) as workers:
        pids = _pids(workers)
        results = []
        for result in workers.map(tasks()):
            results.append(result)
            assert len(taken) - len(results) <= AHEAD * 3  # never more out than the window
    assert results == [n * n for n in range(60)]
    assert _gone(pids)


def test_big_tasks_and_big_results_cross_both_ways_at_once():
    """Each bigger than a pipe's buffer, two out per worker: neither side may wait on the other."""
    with Workers(lambda data: data * 3, 2) as workers:
        results = list(workers.map(bytes([n]) * 700_000 for n in range(8)))
    assert [(len(r), r[0]) for r in results] == [(2_100_000, n) for n in range(8)]


def test_an_error_in_a_worker_is_raised_in_the_parent_with_its_traceback():
    def work(n):
        if n == 5:
            raise ValueError(f"bad task {n}")
        return n

    with Workers(work, 2) as workers:
        pids = _pids(workers)
        results = workers.map(range(20))
        assert [next(results) for _ in range(5)] == [0, 1, 2, 3, 4]
        with pytest.raises(ValueError, match="bad task 5") as raised:
            next(results)
    assert "in work" in str(raised.value.__cause__)
    assert _gone(pids)


def test_a_killed_worker_is_an_error_not_a_hang():
    with Workers(lambda n: time.sleep(0.05) or n, 2) as workers:
        pids = _pids(workers)
        results = workers.map(range(100))
        next(results)
        os.kill(pids[0], signal.SIGKILL)
        started = time.monotonic()
        with pytest.raises(WorkerError, match=f"worker process {pids[0]} was killed by SIGKILL"):
            list(results)
        assert time.monotonic() - started < 5
    assert _gone(pids)


def test_an_idle_worker_killed_is_noticed_too():
    with Workers(lambda n: n, 2) as workers:
        pids = _pids(workers)
        os.kill(pids[1], signal.SIGKILL)
        time.sleep(0.05)
        with pytest.raises(WorkerError, match="killed by SIGKILL"):
            list(workers.map(range(50)))
    assert _gone(pids)


def test_leaving_early_ends_busy_workers_at_once():
    """A result abandoned (an error in the caller, Ctrl-C): workers still at long tasks are stopped
    and reaped, not waited for."""
    with Workers(lambda n: time.sleep(30), 2) as workers:
        pids = _pids(workers)
        results = workers.map(range(10))
        started = time.monotonic()
        previous = signal.signal(signal.SIGALRM, signal.default_int_handler)  # Ctrl-C, in 0.1 s
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.1)
            with pytest.raises(KeyboardInterrupt):
                next(results)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    assert _gone(pids) and time.monotonic() - started < 3


def test_after_a_draining_task_every_result_comes_before_the_next_task_is_asked_for():
    """A task that ends where a live input paused: its result (and those before it) must not wait
    for the next task, whose reading may block until more input arrives."""
    asked: list[int] = []

    def tasks():
        for n in range(8):
            asked.append(n)
            yield n

    with Workers(lambda n: n * n, 2) as workers:
        seen = [(result, len(asked)) for result in workers.map(tasks(), drain=lambda task: task == 2)]
    assert [result for result, _ in seen] == [n * n for n in range(8)]
    assert seen[:3] == [(0, 3), (1, 3), (4, 3)]  # given while only tasks 0-2 had been asked for
