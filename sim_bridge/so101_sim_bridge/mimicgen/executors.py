"""Where trials run: in this process, in local worker processes (--workers N), or as Ray tasks (--ray-address).

All three take the same two jobs, `trial(index)` and `render(result)`, and return
concurrent.futures Futures, so the generator (generate.py) drives them alike. Each worker
process builds its TrialRunner (twin, IK) once from the TrialSetup and keeps it for every job of
that run; results do not depend on which worker ran a trial (trial.py).

- InProcess: runs each job when it is submitted (one worker, nothing to start);
- LocalProcesses: a process pool started with `spawn` (a fresh interpreter per worker: no
  inherited threads or OpenGL state); each worker renders with one llvmpipe thread, since the
  workers already share the cores;
- RayCluster: connects to an existing cluster (ray.init(address=...)), puts the setup in its
  object store once and submits Ray tasks (1 CPU each). The cluster's workers need this package
  installed (`pip install ./calibration ./hardware ./sim_bridge` and libosmesa6, as here). The
  connection is closed by close(); the cluster itself is left running.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor

from so101_sim_bridge.mimicgen.errors import MimicGenError
from so101_sim_bridge.mimicgen.trial import TrialResult, TrialRunner, TrialSetup

_RUNNERS: dict[str, TrialRunner] = {}
"""This process's runner per run (worker processes and Ray workers live across jobs)."""


def _runner(setup: TrialSetup) -> TrialRunner:
    if setup.run_id not in _RUNNERS:
        for old in _RUNNERS.values():
            old.close()
        _RUNNERS.clear()
        _RUNNERS[setup.run_id] = TrialRunner(setup)
    return _RUNNERS[setup.run_id]


def run_trial(setup: TrialSetup, index: int) -> TrialResult:
    return _runner(setup).run(index)


def render_trial(setup: TrialSetup, result: TrialResult) -> TrialResult:
    return _runner(setup).render(result)


class InProcess:
    """Jobs run in the caller's process as they are submitted."""

    workers = 1

    def __init__(self, setup: TrialSetup):
        self._setup = setup

    def trial(self, index: int) -> Future:
        return _done(lambda: run_trial(self._setup, index))

    def render(self, result: TrialResult) -> Future:
        return _done(lambda: render_trial(self._setup, result))

    def close(self) -> None:
        runner = _RUNNERS.pop(self._setup.run_id, None)
        if runner is not None:
            runner.close()


_WORKER_SETUP: TrialSetup | None = None


def _start_worker(setup: TrialSetup) -> None:
    global _WORKER_SETUP
    os.environ.setdefault("LP_NUM_THREADS", "1")  # OSMesa's llvmpipe: one thread per worker, read at first render
    _WORKER_SETUP = setup


def _worker_trial(index: int) -> TrialResult:
    return run_trial(_WORKER_SETUP, index)


def _worker_render(result: TrialResult) -> TrialResult:
    return render_trial(_WORKER_SETUP, result)


class LocalProcesses:
    """A pool of `workers` processes on this machine."""

    def __init__(self, setup: TrialSetup, workers: int):
        self.workers = workers
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker, initargs=(setup,))

    def trial(self, index: int) -> Future:
        return self._pool.submit(_worker_trial, index)

    def render(self, result: TrialResult) -> Future:
        return self._pool.submit(_worker_render, result)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayCluster:
    """Ray tasks on an existing cluster; `workers` tasks at a time (default: the cluster's CPUs)."""

    def __init__(self, setup: TrialSetup, address: str, workers: int | None = None):
        try:
            import ray
        except ImportError:
            raise MimicGenError("--ray-address needs Ray: pip install 'ray[default]==2.60.0' (the version pinned in "
                                "requirements-dev.txt), on this machine and the cluster's") from None
        self._ray = ray
        try:
            ray.init(address=address, log_to_driver=False, logging_level="WARNING")
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise MimicGenError(f"cannot connect to the Ray cluster at {address}: {exc}") from None
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._setup = ray.put(setup)
        self._trial = ray.remote(num_cpus=1)(run_trial)
        self._render = ray.remote(num_cpus=1)(render_trial)

    def trial(self, index: int) -> Future:
        return self._trial.remote(self._setup, index).future()

    def render(self, result: TrialResult) -> Future:
        return self._render.remote(self._setup, result).future()

    def close(self) -> None:
        self._ray.shutdown()


def _done(job) -> Future:
    future: Future = Future()
    try:
        future.set_result(job())
    except Exception as exc:  # noqa: BLE001 - the generator collects it from the future, like a worker's
        future.set_exception(exc)
    return future
