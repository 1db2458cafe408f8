"""Real rclpy on loopback DDS, isolated per test: its own Context on its own ROS_DOMAIN_ID."""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import rclpy
from rclpy.context import Context
from rclpy.executors import Executor

LOCAL_DISCOVERY = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_LOCALHOST_ONLY": "1"}
"""Discovery stays on this machine: Iron and later read ROS_AUTOMATIC_DISCOVERY_RANGE, Humble only
ROS_LOCALHOST_ONLY (Jazzy still honours it, deprecated; Kilted ignores it)."""
for _name, _value in LOCAL_DISCOVERY.items():  # before any rclpy.init; child processes inherit them
    os.environ.setdefault(_name, _value)

_FIRST = int(os.environ.get("SO101_TEST_DOMAIN_BASE", "1"))
_DOMAINS = int(os.environ.get("SO101_TEST_DOMAIN_COUNT", "100"))
"""The test run's ROS domains: 1..100 by default (inside the default range, clear of 0, what a
developer's own ROS uses). Two test runs at once on one machine (two checkouts) give each its own
range, e.g. SO101_TEST_DOMAIN_BASE=101 SO101_TEST_DOMAIN_COUNT=30 (domains end at 232)."""


def domain_for_this_process(offset: int = 0) -> int:
    """A ROS domain no concurrent test of this run shares.

    Under pytest-xdist each worker owns its own block of domains (disjoint, so two workers can
    never meet); `offset` picks one inside the block for tests that need several. Outside xdist
    the process id spreads concurrent runs (e.g. two developers' terminals) over the range.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return _FIRST + (os.getpid() * 7 + offset) % _DOMAINS
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    block = _DOMAINS // max(workers, 1)
    return _FIRST + int(worker.removeprefix("gw")) * block + offset % block


@contextmanager
def ros_context(domain_id: int | None = None) -> Iterator[Context]:
    context = Context()
    rclpy.init(context=context, domain_id=domain_for_this_process() if domain_id is None else domain_id)
    try:
        yield context
    finally:
        context.try_shutdown()


def spin_until(executor: Executor, condition: Callable[[], bool], timeout_s: float) -> bool:
    """Spin the executor until condition() holds or the timeout passes (the condition is the sync)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        executor.spin_once(timeout_sec=min(remaining, 0.05))
    return True
