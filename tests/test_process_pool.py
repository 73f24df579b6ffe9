"""process_pool.OrderedPool, the worker processes of `ner tag --workers N`: input order, errors carried back, a dead
worker reported, and stopping that never waits on a pipe a stopped worker was writing (what hung
multiprocessing.Pool on SIGTERM).

The functions given to the pool are the standard library's, so the forkserver's children import nothing from the
tests: init=int turns init_arg into the state, func=operator.mul multiplies it by each item."""

from __future__ import annotations

import operator
import time

import pytest

from ner_cli.process_pool import OrderedPool, WorkerDied, _picklable


@pytest.mark.parametrize("workers, in_flight", [(1, 1), (2, 2), (3, 1), (4, 3)])
def test_results_come_back_in_input_order(workers, in_flight):
    items = list(range(200))
    with OrderedPool(workers, int, 3, operator.mul, in_flight=in_flight) as pool:
        assert list(pool.map(items)) == [3 * i for i in items]
        assert list(pool.map(["ab", "c"])) == ["ababab", "ccc"]       # a pool maps more than once
    assert all(p.exitcode == 0 for p in pool._procs)                   # idle workers exit once their pipe closes


def test_an_error_in_a_worker_is_raised_in_the_parent_and_the_pool_stops():
    with pytest.raises(ZeroDivisionError), OrderedPool(2, int, 1, operator.truediv) as pool:
        list(pool.map([1, 2, 0, 4]))
    assert all(p.exitcode is not None for p in pool._procs)


def test_an_init_that_fails_fails_each_item():
    with pytest.raises(ValueError, match="not a number"), OrderedPool(2, int, "not a number", operator.mul) as pool:
        list(pool.map([1]))


def test_an_error_that_does_not_pickle_is_named():
    class Odd(Exception):
        def __init__(self, a, b):
            super().__init__(a)

    err = _picklable(Odd(1, 2))
    assert isinstance(err, RuntimeError) and "Odd" in str(err)
    assert isinstance(_picklable(ValueError("x")), ValueError)


def test_a_worker_that_dies_is_reported_not_waited_for():
    with pytest.raises(WorkerDied, match=r"worker process 1 was killed by SIGKILL"), \
            OrderedPool(2, int, 1, operator.mul) as pool:
        pool._procs[0].kill()
        pool._procs[0].join()
        list(pool.map(range(10)))


def _tag_chunks_like(pool_box: list) -> object:
    """As pipeline.tag_chunks holds the pool: a generator that owns it; each item answered with 8 MB."""
    with OrderedPool(2, int, 4_000_000, operator.mul) as pool:
        pool_box.append(pool)
        yield from pool.map(["ab"] * 50)


@pytest.mark.parametrize("how", ["close", "throw", "leave the loop"])
def test_stopping_while_workers_write_large_results_does_not_hang(how):
    """The hang multiprocessing.Pool had: workers stopped in the middle of writing results larger than a pipe's
    buffer. Each item is answered with 8 MB, and the pool is stopped after the first answer, while the workers
    are writing the next ones: by closing the generator that owns it (GeneratorExit: a closed stdout), by an
    exception thrown into it (Ctrl-C, SIGTERM), or by leaving `map` unfinished without an exception. Ten times,
    each within a few seconds."""
    for _ in range(10):
        start = time.monotonic()
        if how == "leave the loop":
            with OrderedPool(2, int, 4_000_000, operator.mul) as pool:
                for answer in pool.map(["ab"] * 50):
                    assert len(answer) == 8_000_000
                    break
        else:
            box: list = []
            answers = _tag_chunks_like(box)
            assert len(next(answers)) == 8_000_000
            if how == "throw":
                with pytest.raises(KeyboardInterrupt):
                    answers.throw(KeyboardInterrupt)
            else:
                answers.close()
            (pool,) = box
        assert all(p.exitcode is not None for p in pool._procs)
        assert time.monotonic() - start < 30                   # a hang is for ever


def test_a_map_left_unfinished_does_not_leak_into_the_next():
    with OrderedPool(2, int, 1, operator.mul) as pool:
        first = pool.map(range(100, 110))
        assert next(first) == 100
        first.close()
        assert list(pool.map(range(5))) == [0, 1, 2, 3, 4]


def test_zero_workers_or_zero_in_flight_are_refused():
    for workers, in_flight in ((0, 2), (2, 0)):
        with pytest.raises(ValueError, match="at least 1"):
            OrderedPool(workers, int, 1, operator.mul, in_flight=in_flight)


def test_an_answer_that_does_not_pickle_comes_back_as_an_error():
    """state = an open file; getattr(state, "read") is a method of it, which pickle refuses."""
    with pytest.raises(RuntimeError, match="could not be sent back"), \
            OrderedPool(1, open, "/dev/null", getattr) as pool:
        list(pool.map(["read"]))
    with OrderedPool(1, open, "/dev/null", getattr) as pool:          # the worker goes on after it
        answers = pool.map(["read", "name"])
        with pytest.raises(RuntimeError):
            next(answers)
        assert list(pool.map(["name"])) == ["/dev/null"]


def test_ner_errors_cross_processes_whole():
    """DataError's __init__ takes five arguments: pickled with its attributes, a worker's error reaches the CLI
    as the same DataError (message, line, hint, exit code), not a RuntimeError with a traceback."""
    import functools
    import pickle

    from ner_cli.errors import DataError, EnvironmentFault, NerError, UsageError

    for error in (DataError("f.txt", 3, "a tag", "'X'", hint="see the README"), UsageError("bad", hint="h"),
                  EnvironmentFault("env"), WorkerDied("worker process 1 ...", hint="fewer")):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error) and back.__dict__ == error.__dict__
        assert isinstance(back, NerError) and back.exit_code == error.exit_code
    make = functools.partial(DataError, expected="a tag", hint="h")       # DataError(state, item, ...) in a worker
    with OrderedPool(1, str, "f.txt", make) as pool:
        (back,) = pool.map([7])
    assert isinstance(back, DataError) and back.line == 7 and str(back) == "f.txt:7: expected a tag"


class _FailsOnArrival:
    """Pickles fine; unpickling it calls int("not a number")."""

    def __reduce__(self):
        return int, ("not a number",)


def test_an_item_that_does_not_unpickle_is_answered_with_an_error_in_its_turn():
    with OrderedPool(2, int, 3, operator.mul) as pool:
        answers = pool.map([1, _FailsOnArrival(), 2])
        assert next(answers) == 3
        with pytest.raises(RuntimeError, match="could not be received: ValueError"):
            next(answers)
        assert list(pool.map([4, 5])) == [12, 15]                     # the workers are still in step


def test_a_worker_killed_by_a_real_time_signal_is_named_by_number():
    import os
    import signal

    number = signal.SIGRTMIN + 5                                       # no name in signal.Signals
    with pytest.raises(WorkerDied, match=rf"worker process 2 was killed by signal {int(number)}\b"), \
            OrderedPool(2, int, 1, operator.mul) as pool:
        os.kill(pool._procs[1].pid, number)
        pool._procs[1].join()
        list(pool.map(range(10)))


def test_init_and_func_by_name_are_imported_in_the_worker():
    with OrderedPool(2, "builtins:int", 3, "operator:mul") as pool:
        assert list(pool.map([1, 2, 3])) == [3, 6, 9]
    with pytest.raises(AttributeError), OrderedPool(1, "builtins:no_such_function", 3, "operator:mul") as pool:
        list(pool.map([1]))
