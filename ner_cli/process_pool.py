"""Worker processes that map a function over items and give the results back in input order (`ner tag --workers`).

Why not `multiprocessing.Pool`: its workers share one result pipe, read by a thread of the parent. A worker stopped
while writing a large result leaves half a message in that pipe, and `Pool.terminate()` then waits for the rest
for ever (`ner tag --workers 2` hung on SIGTERM in CI: the result thread blocked in `recv`, the main thread in
`join`). Here each worker has its own two pipes (tasks in, results out), the parent has no thread and no shared
lock, and stopping is: close the task pipes, stop the workers, close the result pipes. Nothing waits on a pipe
a stopped worker was writing.

Each worker takes items round-robin and answers them in the order it got them, so reading the workers
round-robin restores input order. At most `in_flight` items wait at each worker; a thread in the worker
receives them, so the parent's `send` never waits on a worker that is itself waiting to send.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import os
import pickle
import queue
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from .errors import EnvironmentFault

PAUSED_POLL = 0.005            # seconds between looks at paused input while answers are due


class WorkerDied(EnvironmentFault):
    """A worker process ended before answering (killed, or out of memory): the run stops, nothing is lost
    silently."""


class _Undelivered:
    """An item that arrived whole but did not unpickle: answered with this error, in its turn."""

    def __init__(self, error: BaseException) -> None:
        self.error = RuntimeError(f"the item could not be received: {type(error).__name__}: {error}")


def _receive(tasks: Connection, inbox: queue.SimpleQueue) -> None:
    """The worker's receiving thread: tasks from the parent into the inbox; None once the parent closes the pipe."""
    while True:
        try:
            inbox.put(tasks.recv())
        except (EOFError, OSError):
            inbox.put(None)
            return
        except Exception as e:                  # the message was read whole: the next one is still in step
            inbox.put(_Undelivered(e))


def _resolve(function: Callable[..., Any] | str) -> Callable[..., Any]:
    """A function, or "module:name" imported here: in a worker, after it has set Ctrl-C aside."""
    if callable(function):
        return function
    module, _, name = function.partition(":")
    return getattr(importlib.import_module(module), name)


def _picklable(error: BaseException) -> BaseException:
    """The error itself if it survives pickling, else a RuntimeError that names it."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


def _serve(tasks: Connection, results: Connection, init: Callable[[Any], Any] | str,
           func: Callable[[Any, Any], Any] | str) -> None:
    """A worker's main loop: the first message on the task pipe is init's argument; state = init(it) once, then
    (True, func(state, item)) or (False, error) for each item, in order. Ctrl-C goes to the whole process group,
    and the parent alone decides, so a worker ignores it: from birth when the forkserver was started by
    `start_forkserver`, else from here, before init and func ("module:name") import anything heavy. SIGTERM
    kills it as usual."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        init_arg = tasks.recv()
    except (EOFError, OSError):                 # the parent stopped before it sent everything: nothing to do
        return
    try:
        init, func = _resolve(init), _resolve(func)
        state, failed = init(init_arg), None
    except Exception as e:
        state, failed = None, _picklable(e)
    del init_arg
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_receive, args=(tasks, inbox), daemon=True).start()
    while (item := inbox.get()) is not None:
        if failed is not None:
            reply = (False, failed)
        elif isinstance(item, _Undelivered):
            reply = (False, item.error)
        else:
            try:
                reply = (True, func(state, item))
            except Exception as e:
                reply = (False, _picklable(e))
        try:
            results.send(reply)
        except OSError:                         # the parent is gone
            return
        except Exception as e:                  # the answer does not pickle (send wrote nothing)
            results.send((False, RuntimeError(f"the answer could not be sent back: {type(e).__name__}: {e}")))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM blocked (held, not lost) while worker processes or the forkserver start, so a start
    is never cut off half-way; the parent gets a held signal as soon as the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def start_forkserver() -> bool:
    """Start the forkserver (the process workers are forked from) with SIGINT ignored, if this process has a
    single thread; True if it did. An ignored signal is the one disposition that survives exec, so the
    forkserver and every worker it forks ignore Ctrl-C from birth, not only once `_serve` runs (a Ctrl-C while a
    worker imported numpy printed numpy's ImportError). Meanwhile the parent holds SIGINT blocked, so a Ctrl-C
    in those milliseconds stays pending and reaches it once its handler is back. That needs one thread: a
    process-wide signal goes to any thread that does not block it (OpenBLAS's, once numpy is loaded), and would
    be dropped there. `ner tag --workers` calls this before it loads numpy; otherwise workers set Ctrl-C aside
    first thing in `_serve`. A no-op if the forkserver already runs, off the main thread, or off Linux."""
    if threading.current_thread() is not threading.main_thread() or not _single_threaded():
        return False
    from multiprocessing import forkserver, resource_tracker

    resource_tracker.ensure_running()           # first: starting it unblocks SIGINT (its own mask dance)
    with _signals_held():                       # the handler is back before the block ends
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            forkserver.ensure_running()
        finally:
            signal.signal(signal.SIGINT, previous)
    return True


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:                             # not Linux: unknown
        return False


def _signal_name(number: int) -> str:
    """SIGKILL, SIGTERM...; real-time signals (no name in signal.Signals) as "signal 39"."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class OrderedPool:
    """`workers` processes, each running `state = init(init_arg)` once; `map(items)` yields `func(state, item)`
    in input order. init and func: picklable functions, or "module:name" to import in the worker. Use it as a
    context manager: leaving it normally lets idle workers exit; leaving it on an exception (Ctrl-C, SIGTERM, a
    closed stdout) or with items unanswered kills them at once."""

    def __init__(self, workers: int, init: Callable[[Any], Any] | str, init_arg: Any,
                 func: Callable[[Any, Any], Any] | str, in_flight: int = 2, context: str | None = None) -> None:
        import multiprocessing as mp

        if workers < 1 or in_flight < 1:
            raise ValueError(f"workers and in_flight must be at least 1, not {workers} and {in_flight}")
        ctx = mp.get_context(context or ("spawn" if os.name == "nt" else "forkserver"))
        self.in_flight = in_flight
        self._pending: deque[int] = deque()     # the worker of each item sent and not yet answered, in input order
        self._procs: list[Any] = []
        self._tasks: list[Connection] = []
        self._results: list[Connection] = []
        try:
            with _signals_held():
                for _ in range(workers):
                    task_r, task_w = ctx.Pipe(duplex=False)
                    result_r, result_w = ctx.Pipe(duplex=False)
                    proc = ctx.Process(target=_serve, args=(task_r, result_w, init, func), daemon=True,
                                       name=f"ner-worker-{len(self._procs) + 1}")
                    self._tasks.append(task_w)
                    self._results.append(result_r)
                    self._procs.append(proc)
                    try:
                        proc.start()
                    except (OSError, EOFError):         # the worker, or the forkserver, died as it started
                        raise self._died(len(self._procs) - 1) from None
                    finally:
                        task_r.close()          # the worker's ends: closed here, so a dead worker reads as EOF
                        result_w.close()
            for worker in range(workers):       # init's argument (a model: megabytes) through the task pipe, where
                self._send(worker, init_arg)    # a worker stopped half-way reads end of file, not a bad pickle
        except BaseException:
            self.close(kill=True)
            raise

    def map(self, items: Iterable[Any], ready: Callable[[], bool] | None = None) -> Iterator[Any]:
        """func(state, item) for each item, in order, with at most `in_flight` items waiting at each worker.
        With `ready` (is the next item there without waiting?): while input has paused, each answer is given as
        it arrives, and input is read again as soon as it is there (checked every PAUSED_POLL seconds), so the
        output of a pipe that pauses is not held back and the workers still overlap on bursts. A map left
        unfinished: the next one first takes (and drops) its answers."""
        n = len(self._procs)
        while self._pending:
            self._answer(self._pending.popleft(), raise_errors=False)
        it = iter(items)
        for i in itertools.count():
            while ready is not None and self._pending and not ready():  # input paused: answers as they come
                if self._results[self._pending[0]].poll(PAUSED_POLL):
                    yield self._answer(self._pending.popleft())
            item = next(it, _END)
            if item is _END:
                break
            if len(self._pending) >= self.in_flight * n:
                yield self._answer(self._pending.popleft())
            self._send(i % n, item)
            self._pending.append(i % n)
        while self._pending:
            yield self._answer(self._pending.popleft())

    def _send(self, worker: int, item: Any) -> None:
        try:
            self._tasks[worker].send(item)
        except OSError:
            raise self._died(worker) from None

    def _answer(self, worker: int, raise_errors: bool = True) -> Any:
        try:
            ok, value = self._results[worker].recv()
        except (EOFError, OSError):
            raise self._died(worker) from None
        if not ok and raise_errors:
            raise value
        return value

    def _died(self, worker: int) -> WorkerDied:
        proc = self._procs[worker]
        if proc.pid is not None:
            proc.join(timeout=5)
        code = proc.exitcode
        how = ("could not be started" if proc.pid is None
               else f"was killed by {_signal_name(-code)}" if code is not None and code < 0
               else f"exited with code {code}" if code is not None else "stopped answering")
        return WorkerDied(f"worker process {worker + 1} {how} before it finished its work",
                          hint="if the system ran out of memory, use fewer --workers (each holds the model)")

    def close(self, kill: bool = False) -> None:
        """Stop the workers: idle ones exit once their task pipe closes; busy ones (items left unanswered), all of
        them with `kill`, and any still there after 5 s are killed. Safe to call twice."""
        kill = kill or bool(self._pending)
        started = [p for p in self._procs if p.pid is not None]
        for conn in self._tasks:
            conn.close()
        for proc in started:
            if kill and proc.exitcode is None:
                proc.kill()
        for proc in started:
            proc.join(timeout=None if kill else 5)
            if proc.exitcode is None:
                proc.kill()
                proc.join()
        for conn in self._results:
            conn.close()

    def __enter__(self) -> OrderedPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(kill=exc_type is not None)


_END = object()
