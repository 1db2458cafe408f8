"""Real-time scheduling for the control path's processes: SCHED_FIFO where the user may, CPU affinity.

Why: on a busy PC (the twin rendering cameras, the recorder encoding video) a normal-priority
control process waits behind whatever else is runnable, and teleop's latency follows the load
(teleop_latency benchmark, `--load`). A SCHED_FIFO thread runs as soon as it is woken, ahead of
every normal thread. ros2_control's controller manager does the same, on any kernel, at priority
50 (docs/reference/realtime.md §1); so do the leader, follower, teleop and command mux nodes by
default (`realtime_priority`), when they own their process (`ros2 launch`, `ros2 run`, the graph
runner's node processes): `so101_hardware.ros.lifecycle.run_node` applies it once the node
exists. Every thread of the process gets it, the DDS middleware's receive threads included,
since a message waits for them before the executor sees it.

Not permitted (no CAP_SYS_NICE and an `rtprio` limit of 0, the default for users): the process
keeps normal scheduling and says so once, naming the limit to raise (README "Real-time
scheduling"; docs/reference/realtime.md §2). A SCHED_FIFO thread that never sleeps would starve
its CPU; the kernel keeps 5 % of every second for normal threads (sched_rt_runtime_us), and the
control loops sleep between ticks.
"""
from __future__ import annotations

import os
import resource
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_PRIORITY = 99
DEFAULT_PRIORITY = 50
"""ros2_control's controller manager's (docs/reference/realtime.md §1)."""
_TASKS = "/proc/self/task"


@dataclass(frozen=True)
class RealtimeParameters:
    """The scheduling a control node's process asks for (fields are ROS parameters of those nodes)."""

    realtime_priority: int = field(
        default=DEFAULT_PRIORITY,
        metadata={"help": "SCHED_FIFO priority 1..99 of the node's process, where permitted (README "
                          "'Real-time scheduling'); 0: normal scheduling"},
    )
    cpu_affinity: tuple[int, ...] = field(
        default=(), metadata={"help": "CPUs the node's process runs on, e.g. [1]; empty: any"}
    )

    def __post_init__(self) -> None:
        if not 0 <= self.realtime_priority <= MAX_PRIORITY:
            raise ValueError(f"realtime_priority must be within 0..{MAX_PRIORITY} (0: off), got {self.realtime_priority}")
        if any(cpu < 0 for cpu in self.cpu_affinity) or len(set(self.cpu_affinity)) != len(self.cpu_affinity):
            raise ValueError(f"cpu_affinity must list distinct CPU numbers >= 0, got {list(self.cpu_affinity)}")


@dataclass(frozen=True)
class SchedulingOutcome:
    """What the process got: real-time or not, and one line saying so (the node logs it once)."""

    realtime: bool
    message: str


def apply_to_process(priority: int, cpus: Sequence[int] = ()) -> SchedulingOutcome:
    """Put every thread of this process on SCHED_FIFO at `priority` (0: leave the policy) and on `cpus`
    (empty: leave the affinity). Never raises for a refusal: the outcome says what happened."""
    notes: list[str] = []
    threads = _thread_ids()
    if cpus:
        available = os.sched_getaffinity(0)
        wanted = set(cpus)
        if not wanted <= available:
            notes.append(f"CPU affinity {sorted(wanted)} not applied: this process may run on {sorted(available)} only")
        else:
            for tid in threads:
                _each_thread(os.sched_setaffinity, tid, wanted)
            notes.append(f"on CPU(s) {sorted(wanted)}")
    if not priority:
        return SchedulingOutcome(False, "; ".join(["normal scheduling (realtime_priority 0)", *notes]))
    try:
        os.sched_setscheduler(threads[0], os.SCHED_FIFO, os.sched_param(priority))
    except PermissionError:
        return SchedulingOutcome(False, "; ".join([refusal(priority), *notes]))
    for tid in threads[1:]:
        _each_thread(os.sched_setscheduler, tid, os.SCHED_FIFO, os.sched_param(priority))
    return SchedulingOutcome(True, "; ".join([f"SCHED_FIFO priority {priority} on {len(threads)} thread(s)", *notes]))


def refusal(priority: int) -> str:
    """Why SCHED_FIFO was refused, and what to change."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_RTPRIO)
    limit = "unlimited" if soft == resource.RLIM_INFINITY else str(soft)
    return (
        f"SCHED_FIFO priority {priority} not permitted (rtprio limit {limit}, no CAP_SYS_NICE): normal scheduling, "
        "so other programs on this PC can delay the control loop. Allow it with an rtprio limit of at least "
        f"{priority} (README 'Real-time scheduling'), or set realtime_priority 0 to silence this"
    )


def _thread_ids() -> list[int]:
    """This process's threads, the calling one first."""
    current = threading.get_native_id()
    others = sorted(int(name) for name in os.listdir(_TASKS) if int(name) != current)
    return [current, *others]


def _each_thread(call, tid: int, *args) -> None:
    try:
        call(tid, *args)
    except ProcessLookupError:  # the thread ended meanwhile
        pass
