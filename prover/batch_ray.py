"""Running jobs on a Ray cluster: one warm worker actor per CPU (an epoch's accounts, a solvency chain's batches).

Ray (PyPI ``ray``) is optional: ``pip install 'zkmargin[cluster]'``. ``address`` is ``auto`` (the
Ray cluster already running on this machine) or a cluster address (``HOST:PORT``,
``ray://HOST:PORT``). Every node needs this package, the circuit build and its keys at the same
paths (the venue deploys them with the epoch's keys). Each actor (a :class:`RayWorker`:
:class:`~prover.batch_worker.BatchWorker`, :class:`~prover.solvency.SolvencyWorker`) loads the
wasm and the keys once and proves one job at a time; an actor that dies is replaced and its job
retried, given up after ``max_attempts`` deaths as on the local pool. The results (proofs
included) come back to this process, which writes them: the output folder needs no shared file
system.

The actors are owned by this process (not detached): when it exits, however it exits (``kill
-9`` included), Ray kills them, and each actor's snarkjs dies with its actor
(:func:`prover.lifetime.die_with_parent`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, Protocol, TypeVar

from prover.batch_pool import DEFAULT_MAX_ATTEMPTS, RetryQueue
from zkmargin.errors import ClusterError

J = TypeVar("J")
R = TypeVar("R")
S = TypeVar("S")
J_contra = TypeVar("J_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)


class RayWorker(Protocol[J_contra, R_co]):
    """A warm prover Ray can host as an actor: built from a spec, then job after job."""

    def ready(self) -> str:
        """This worker's ``host:pid`` once loaded (waited on, so load errors surface at start)."""

    def prove(self, job: J_contra) -> R_co:
        """The job's result; it must not raise (a raising actor method reads as a lost cluster)."""


INSTALL_HINT = "pip install 'zkmargin[cluster]' (or: pip install ray)"


def import_ray() -> ModuleType:
    """The ``ray`` module, or ClusterError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ClusterError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def run_on_ray(
    address: str,
    worker: Callable[[S], RayWorker[J, R]],
    spec: S,
    jobs: Sequence[J],
    *,
    workers: int | None,
    on_result: Callable[[J, R, int], None],
    on_give_up: Callable[[J, int], None],
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> int:
    """Prove ``jobs`` on ``workers`` actors ``worker(spec)`` (default: one per CPU of the cluster; no
    more than there are jobs) at ``address``; return how many actors had to be replaced. Callbacks as
    :func:`prover.batch_pool.run_pool`."""
    ray = import_ray()
    try:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    except Exception as e:  # noqa: BLE001 - ray raises ConnectionError, RuntimeError, ValueError...
        raise ClusterError(f"cannot connect to the Ray cluster at {address!r}: {e}") from None
    try:
        count = min(workers or max(1, int(ray.cluster_resources().get("CPU", 1))), len(jobs))
        return _run(ray, ray.remote(num_cpus=1)(worker), spec, jobs, count, on_result,
                    RetryQueue(jobs, max_attempts, on_give_up))
    finally:
        ray.shutdown()


def _run(
    ray: ModuleType,
    actor_class: Any,
    spec: S,
    jobs: Sequence[J],
    count: int,
    on_result: Callable[[J, R, int], None],
    queue: RetryQueue[J],
) -> int:
    idle = [actor_class.remote(spec) for _ in range(count)]
    try:
        ray.get([actor.ready.remote() for actor in idle])
    except ray.exceptions.RayError as e:
        raise ClusterError(f"the workers could not start on the cluster: {e}") from None
    running: dict[Any, tuple[Any, int]] = {}
    replaced = 0
    try:
        while queue or running:
            while idle and (index := queue.next(0)) is not None:
                actor = idle.pop()
                running[actor.prove.remote(jobs[index])] = (actor, index)
            [ref], _ = ray.wait(list(running), num_returns=1)
            actor, index = running.pop(ref)
            try:
                outcome = ray.get(ref)
            except ray.exceptions.RayActorError:
                queue.lost(index, alone=True)  # an actor runs one job: this one was on it
                ray.kill(actor)
                idle.append(actor_class.remote(spec))
                replaced += 1
                continue
            except ray.exceptions.RayError as e:
                raise ClusterError(f"lost the Ray cluster mid-run (finished jobs are kept): {e}") from None
            idle.append(actor)
            on_result(jobs[index], outcome, queue.done(index))
    finally:
        for actor in [*idle, *(actor for actor, _ in running.values())]:
            ray.kill(actor)
    return replaced
