"""Real rclpy on loopback DDS, isolated per test: its own Context on its own ROS_DOMAIN_ID."""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import rclpy
from rclpy.context import Context
from rclpy.executors import Executor

# Discovery stays on this machine (Jazzy and later honour it); set before any rclpy.init.
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

_DOMAINS = 100  # 1..100: inside the default range, clear of 0 (what a developer's own ROS uses)


def domain_for_this_process(offset: int = 0) -> int:
    """A domain id unlikely to be shared by a concurrent test process (xdist workers, other runs)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return 1 + (os.getpid() * 7 + int(worker or 0) * 13 + offset) % _DOMAINS


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
