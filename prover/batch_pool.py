"""Running batch jobs on a local process pool that survives the death of its workers.

When a worker process dies, ``concurrent.futures`` fails every job in flight with
BrokenProcessPool, the innocent with the guilty. :func:`run_pool` keeps at most one job in
flight per worker, so it knows which jobs those were; it recreates the pool and runs each of them
again, alone, before anything else (:class:`RetryQueue`): a job whose worker dies while it runs
alone is the culprit, and after ``max_attempts`` such deaths it is given up. Jobs that completed
were already handed to ``on_result``: nothing done is lost.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Generic, TypeVar

J = TypeVar("J")
R = TypeVar("R")

DEFAULT_MAX_ATTEMPTS = 3
"""A job is given up after its worker died this many times while running it alone."""


class RetryQueue(Generic[J]):
    """Jobs waiting to run; which were in flight when a worker died, and how often each died.

    A job lost while others were in flight is a suspect: it runs next, alone. A death while a job
    runs alone (``alone=True``: e.g. its own Ray actor died) counts against it; at
    ``max_attempts`` deaths ``on_give_up(job, deaths)`` is called instead of queueing it again.
    """

    def __init__(self, jobs: Sequence[J], max_attempts: int, on_give_up: Callable[[J, int], None]) -> None:
        self.jobs = jobs
        self.max_attempts = max_attempts
        self.on_give_up = on_give_up
        self.pending: deque[int] = deque(range(len(jobs)))
        self.runs = [0] * len(jobs)
        self.deaths = [0] * len(jobs)
        self.suspects: set[int] = set()
        self.solo: int | None = None
        """The suspect running alone now, if any."""

    def __bool__(self) -> bool:
        return bool(self.pending)

    def next(self, running: int) -> int | None:
        """The index of the job to start now, with ``running`` jobs in flight; None to wait."""
        if not self.pending or self.solo is not None:
            return None
        index = self.pending[0]
        if index in self.suspects:
            if running:
                return None
            self.solo = index
        self.pending.popleft()
        self.runs[index] += 1
        return index

    def not_started(self, index: int) -> None:
        """Job ``index`` could not be submitted: it keeps its place at the front."""
        self.runs[index] -= 1
        self.solo = None if self.solo == index else self.solo
        self.pending.appendleft(index)

    def done(self, index: int) -> int:
        """Job ``index`` completed; how many times it was started."""
        self.solo = None if self.solo == index else self.solo
        return self.runs[index]

    def lost(self, index: int, *, alone: bool = False) -> None:
        """The worker running job ``index`` died: queue it again (to run alone), or give it up."""
        alone = alone or self.solo == index
        self.solo = None if self.solo == index else self.solo
        if alone:
            self.deaths[index] += 1
            if self.deaths[index] >= self.max_attempts:
                self.on_give_up(self.jobs[index], self.deaths[index])
                return
        else:
            self.suspects.add(index)
        self.pending.appendleft(index)


def run_pool(
    jobs: Sequence[J],
    call: Callable[[J], R],
    *,
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
    on_result: Callable[[J, R, int], None],
    on_give_up: Callable[[J, int], None],
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> int:
    """Run ``call(job)`` for every job on ``workers`` processes, each set up once by
    ``initializer(*initargs)`` (which should not raise: a pool whose workers cannot start only
    dies again); return how many times the pool had to be recreated.

    ``on_result(job, result, runs)`` is called in this process as each job completes;
    ``on_give_up(job, deaths)`` for a job that killed its worker ``max_attempts`` times.
    ``call``, ``initializer`` and the arguments must be picklable: processes are spawned, not
    forked (a fork would copy the caller's threads and locks, Ray's among them).
    """
    queue = RetryQueue(jobs, max_attempts, on_give_up)
    pools = 0
    while queue:
        pools += 1
        pool = ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"), initializer, initargs)
        try:
            _drain(pool, queue, call, workers, on_result)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return max(pools - 1, 0)


def _drain(
    pool: ProcessPoolExecutor,
    queue: RetryQueue[J],
    call: Callable[[J], R],
    workers: int,
    on_result: Callable[[J, R, int], None],
) -> None:
    """Feed ``pool`` until the queue is empty or the pool breaks (a worker died)."""
    running: dict[Future[R], int] = {}
    broken = False

    def settle(futures: set[Future[R]]) -> None:
        nonlocal broken
        for future in futures:
            index = running.pop(future)
            try:
                result = future.result()
            except BrokenProcessPool:
                queue.lost(index)
                broken = True
            else:
                on_result(queue.jobs[index], result, queue.done(index))

    while (queue or running) and not broken:
        while len(running) < workers and (index := queue.next(len(running))) is not None:
            try:
                running[pool.submit(call, queue.jobs[index])] = index
            except BrokenProcessPool:
                queue.not_started(index)
                broken = True
                break
        settle(wait(running, return_when=FIRST_COMPLETED).done)
    settle(wait(running).done)  # after a break: the other jobs in flight end too
