"""Streaming action chunks at the control rate: a pure, clock-injected scheduler and a thin threaded driver.

`ChunkScheduler` (scheduler.py) decides, from times it is given, when to ask for the next
chunk and which target to command at each tick; `ActionValidator` (chunk_checks.py) is its check
on every chunk; `StreamingDriver` (driver.py) runs the requests on a worker thread so the
control thread never waits for the network. The ROS inference node wraps the driver.
"""
from so101_policy.streaming.chunk_checks import ActionValidator, ValidationConfig
from so101_policy.streaming.driver import PolicyChunkSource, StreamingDriver
from so101_policy.streaming.scheduler import AcceptedChunk, BlendMode, ChunkScheduler, SchedulerConfig, Tick, TickStatus

__all__ = [
    "AcceptedChunk",
    "ActionValidator",
    "BlendMode",
    "ChunkScheduler",
    "PolicyChunkSource",
    "SchedulerConfig",
    "StreamingDriver",
    "Tick",
    "TickStatus",
    "ValidationConfig",
]
