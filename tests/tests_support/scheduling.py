"""What scheduling this machine permits, and what a process's threads got (for the real-time tests)."""
from __future__ import annotations

import os
import subprocess
import sys


def fifo_permitted() -> bool:
    """Whether a process started here may put itself on SCHED_FIFO (root, CAP_SYS_NICE or an rtprio limit).

    Asked of a throw-away child: the test process itself must keep normal scheduling."""
    probe = "import os; os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


def thread_policies(pid: int) -> dict[int, tuple[int, int]]:
    """Thread id → (policy, real-time priority) of every thread of process `pid`."""
    policies = {}
    for name in os.listdir(f"/proc/{pid}/task"):
        tid = int(name)
        try:
            policies[tid] = (os.sched_getscheduler(tid), os.sched_getparam(tid).sched_priority)
        except ProcessLookupError:  # the thread ended meanwhile
            continue
    return policies


def current_policy() -> str:
    """This thread's scheduling, e.g. 'SCHED_FIFO 50' or 'SCHED_OTHER'."""
    policy = os.sched_getscheduler(0)
    if policy == os.SCHED_FIFO:
        return f"SCHED_FIFO {os.sched_getparam(0).sched_priority}"
    return {os.SCHED_OTHER: "SCHED_OTHER", os.SCHED_RR: "SCHED_RR"}.get(policy, f"policy {policy}")
