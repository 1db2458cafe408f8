"""Real-time scheduling of a control node's process (so101_hardware.realtime), in child processes of its own.

The test process keeps normal scheduling: each case runs in a spawned child that exits afterwards.
Whether SCHED_FIFO is permitted depends on the machine (root or CAP_SYS_NICE or an rtprio limit):
the refusal is produced on purpose (an rtprio limit of 0, and no root), the grant only where permitted.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import threading

import pytest

from so101_hardware.realtime import RealtimeParameters, apply_to_process
from tests_support.scheduling import current_policy, fifo_permitted

pytestmark = pytest.mark.timeout(60)
NOBODY = 65534


def in_child(function, *args):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def _refused_without_permission() -> tuple[bool, str, str]:
    if os.geteuid() == 0:
        os.setgid(NOBODY)
        os.setuid(NOBODY)  # drops CAP_SYS_NICE with the other capabilities
    resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0))
    outcome = apply_to_process(50)
    return outcome.realtime, outcome.message, current_policy()


def _granted_to_every_thread(cpu: int) -> tuple[bool, str, list[tuple[int, int]], list[set[int]]]:
    stop = threading.Event()
    earlier = threading.Thread(target=stop.wait)  # a thread that exists before, as DDS's do
    earlier.start()
    outcome = apply_to_process(10, (cpu,))
    tids = [int(name) for name in os.listdir("/proc/self/task")]
    policies = [(os.sched_getscheduler(tid), os.sched_getparam(tid).sched_priority) for tid in tids]
    affinities = [os.sched_getaffinity(tid) for tid in tids]
    stop.set()
    earlier.join()
    return outcome.realtime, outcome.message, policies, affinities


def test_without_permission_the_process_keeps_normal_scheduling_and_says_what_to_change():
    realtime, message, policy = in_child(_refused_without_permission)
    assert not realtime and policy == "SCHED_OTHER"
    assert "SCHED_FIFO priority 50 not permitted (rtprio limit 0" in message
    assert "README 'Real-time scheduling'" in message and "realtime_priority 0" in message


@pytest.mark.skipif(not fifo_permitted(), reason="SCHED_FIFO is not permitted on this machine")
def test_where_permitted_every_thread_gets_the_priority_and_the_cpus():
    cpu = min(os.sched_getaffinity(0))
    realtime, message, policies, affinities = in_child(_granted_to_every_thread, cpu)
    assert realtime and message.startswith("SCHED_FIFO priority 10 on ")
    assert len(policies) >= 2 and set(policies) == {(os.SCHED_FIFO, 10)}, "the thread started before too"
    assert all(affinity == {cpu} for affinity in affinities)


def test_priority_zero_leaves_the_policy_alone():
    outcome = apply_to_process(0)
    assert not outcome.realtime and outcome.message == "normal scheduling (realtime_priority 0)"
    assert current_policy() == "SCHED_OTHER"


@pytest.mark.parametrize("settings, error", [
    (dict(realtime_priority=100), r"realtime_priority must be within 0\.\.99"),
    (dict(realtime_priority=-1), r"realtime_priority must be within 0\.\.99"),
    (dict(cpu_affinity=(1, 1)), "distinct CPU numbers"),
    (dict(cpu_affinity=(-1,)), "distinct CPU numbers"),
])
def test_bad_scheduling_parameters_are_refused(settings, error):
    with pytest.raises(ValueError, match=error):
        RealtimeParameters(**settings)
