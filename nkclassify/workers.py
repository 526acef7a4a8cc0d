"""Worker processes for ``tag --jobs``: forked with the loaded model, each on pipes of its own.

Why not ``multiprocessing.Pool``: its workers take their tasks from one queue behind one shared
lock, and a worker that died holding it (SIGTERM to the whole process group: parent and workers at
once) left ``Pool.terminate()`` waiting for ever, about one run in sixteen. Here nothing is shared:
the parent writes each task down one worker's pipe and reads that worker's results from its own
pipe, so a dead worker is an end of file on its pipe (``WorkerError``), and ending is always the
same few steps, whatever state the workers are in: close the pipes, stop the busy workers, SIGKILL
any still there after a moment, reap them all.
"""

from __future__ import annotations

import gc
import os
import pickle
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any

from .errors import WorkerError

__all__ = ["Workers"]

AHEAD = 2  # tasks out to one worker at a time: one at work, one waiting, so it never waits on the parent
GRACE = 1.0  # seconds the workers get to leave before SIGKILL
_HELD = {signal.SIGINT, signal.SIGTERM}
_END = object()


@dataclass
class _Failed:
    """A task's error, as it came back from its worker, held until the task's turn."""

    error: BaseException
    detail: str


class _RemoteTraceback(Exception):
    """The traceback of an error raised in a worker (the ``__cause__`` of the error re-raised here)."""


@dataclass(eq=False)
class _Worker:
    pid: int
    tasks: Connection  # the parent writes tasks here ...
    results: Connection  # ... and reads their results here, in the order it sent them
    queued: deque = field(default_factory=deque)  # numbers of the tasks sent and not answered yet
    status: int | None = None  # wait status, once reaped


class Workers:
    """``jobs`` processes forked from this one (so they share its loaded objects), each running
    ``work`` on the tasks given to it; ``map`` hands the tasks out and yields the results in order.
    Use it as a context manager: leaving it ends and reaps every worker, on every way out."""

    def __init__(self, work: Callable[[Any], Any], jobs: int) -> None:
        self._workers: list[_Worker] = []
        try:
            with _signals_held():  # a signal now would leave a forked worker unrecorded
                # the parent's objects are moved out of the collector's sight before the fork: a
                # worker's collections then never walk them, so their pages stay shared
                gc.freeze()
                try:
                    for _ in range(jobs):
                        self._workers.append(self._fork(work))
                finally:
                    gc.unfreeze()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _fork(self, work: Callable[[Any], Any]) -> _Worker:
        task_reader, task_writer = Pipe(duplex=False)
        result_reader, result_writer = Pipe(duplex=False)
        pid = os.fork()
        if pid == 0:  # the worker: it never returns from here, nor unwinds into the parent's code
            code = 1
            try:
                _worker_signals()
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
                # only its own ends stay open, so each pipe's end of file says its one process is gone
                for connection in (task_writer, result_reader, *self._parent_ends()):
                    connection.close()
                _serve(task_reader, result_writer, work)
                code = 0
            finally:
                os._exit(code)
        task_reader.close()
        result_writer.close()
        return _Worker(pid, task_writer, result_reader)

    def _parent_ends(self) -> Iterator[Connection]:
        for worker in self._workers:
            yield worker.tasks
            yield worker.results

    def map(self, tasks: Iterable, drain: Callable[[Any], bool] | None = None) -> Iterator:
        """Each task's result, in the order of the tasks. A result waiting for an earlier one still
        counts as out, so at most ``AHEAD`` x jobs tasks are out at once however long the input.

        After a task for which ``drain`` is true, every result is given before the next task is
        asked for (taking a task may wait on a live input: the results should not wait with it)."""
        tasks = iter(tasks)
        done: dict[int, Any] = {}
        sent = given = 0
        more, draining = True, False
        while True:
            while more and not draining and sent - given < AHEAD * len(self._workers):
                task = next(tasks, _END)
                if task is _END:
                    more = False
                    break
                self._send(min(self._workers, key=lambda w: len(w.queued)), sent, task)
                sent += 1
                draining = drain is not None and drain(task)
            if given in done:
                result = done.pop(given)
                if isinstance(result, _Failed):
                    raise result.error from _RemoteTraceback(result.detail)
                yield result
                given += 1
            elif given == sent:
                if not more:
                    return
                draining = False  # all given: the next task may be waited for
            else:
                self._receive(done)

    def _send(self, worker: _Worker, number: int, task: Any) -> None:
        data = pickle.dumps(task, pickle.HIGHEST_PROTOCOL)
        worker.queued.append(number)
        try:
            worker.tasks.send_bytes(data)
        except OSError:  # a broken pipe: the worker is gone
            raise self._died(worker) from None

    def _receive(self, done: dict[int, Any]) -> None:
        """Wait for the next results (and take whichever others are ready). An idle worker's pipe
        is watched too: it is ready only at an end of file, when that worker has died."""
        workers = {worker.results: worker for worker in self._workers}
        for connection in wait(list(workers)):
            worker = workers[connection]
            try:
                data = connection.recv_bytes()
            except (EOFError, OSError):
                raise self._died(worker) from None
            ok, value, detail = pickle.loads(data)
            # an error waits its turn like a result: every earlier task's result is given first
            done[worker.queued.popleft()] = value if ok else _Failed(value, detail)

    def _died(self, worker: _Worker) -> WorkerError:
        status = _reap(worker, GRACE)  # its pipe is closed: it has ended, or is ending
        if status is not None and os.WIFSIGNALED(status):
            how = f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
            how += " (out of memory?)" if os.WTERMSIG(status) == signal.SIGKILL else ""
        elif status is not None:
            how = f"exited with code {os.waitstatus_to_exitcode(status)}"
        else:
            how = "closed its pipe"
        return WorkerError(f"worker process {worker.pid} {how} before it finished its batch")

    def close(self) -> None:
        """End every worker whatever state it is in, and reap it: the pipes are closed (an idle
        worker leaves at once), workers still at work get SIGTERM (they die at once), any left after
        ``GRACE`` get SIGKILL. SIGINT and SIGTERM are held meanwhile, so that a second signal cannot
        cut this short and leave a worker unreaped; they are delivered when it is done."""
        with _signals_held():
            for worker in self._workers:
                worker.tasks.close()
                worker.results.close()
                if worker.queued and worker.status is None:
                    with suppress(ProcessLookupError):
                        os.kill(worker.pid, signal.SIGTERM)
            deadline = time.monotonic() + GRACE
            for worker in self._workers:
                if _reap(worker, deadline - time.monotonic()) is None:
                    with suppress(ProcessLookupError):
                        os.kill(worker.pid, signal.SIGKILL)
                    _reap(worker, None)
            self._workers = []


def _worker_signals() -> None:
    """Workers die at once on SIGTERM and leave Ctrl-C to the parent: they inherit the CLI's
    handlers, which would turn SIGTERM into an unwinding through the parent's code, and a terminal
    sends SIGINT to the whole process group, workers too."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _serve(tasks: Connection, results: Connection, work: Callable[[Any], Any]) -> None:
    """A worker's loop: run each task in turn, send back (True, result, None) or (False, error,
    traceback). A thread takes the tasks off the pipe as they come, so that the parent writing a
    task never waits on this worker writing a result (with both pipes full, each would wait on the
    other); the parent sends at most ``AHEAD`` at a time."""
    inbox: queue.SimpleQueue = queue.SimpleQueue()

    def receive() -> None:
        try:
            while True:
                inbox.put(tasks.recv_bytes())
        except (EOFError, OSError):  # the parent closed the pipe: no more tasks
            inbox.put(None)

    threading.Thread(target=receive, daemon=True).start()
    while (task := inbox.get()) is not None:
        try:
            reply = pickle.dumps((True, work(pickle.loads(task)), None), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            reply = _error_reply(exc)
        try:
            results.send_bytes(reply)
        except OSError:  # the parent is gone
            return


def _error_reply(exc: Exception) -> bytes:
    """An error as the parent can load it (or, if it cannot be pickled, its type and message)."""
    import traceback

    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        reply = pickle.dumps((False, exc, detail), pickle.HIGHEST_PROTOCOL)
        pickle.loads(reply)
    except Exception:
        reply = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}"), detail))
    return reply


def _reap(worker: _Worker, timeout: float | None) -> int | None:
    """The worker's wait status once it has ended, waiting up to ``timeout`` seconds (None: until
    it ends); None if it is still running."""
    end = None if timeout is None else time.monotonic() + timeout
    pause = 0.001
    while worker.status is None:
        try:
            pid, status = os.waitpid(worker.pid, 0 if end is None else os.WNOHANG)
        except ChildProcessError:  # reaped by someone else: gone all the same
            worker.status = 0
            break
        if pid:
            worker.status = status
        elif time.monotonic() >= end:
            break
        else:
            time.sleep(pause)
            pause = min(2 * pause, 0.02)
    return worker.status


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (they are not lost) while workers are forked or ended."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
