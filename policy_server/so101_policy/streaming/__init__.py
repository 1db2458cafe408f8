"""Streaming action chunks at the control rate: a pure, clock-injected scheduler and a thin threaded driver.

`ChunkScheduler` (scheduler.py) decides, from times it is given, when to ask for the next
chunk and which target to command at each tick; `ActionValidator` (chunk_checks.py) is its check
on every chunk; `StreamingDriver` (driver.py) runs the requests on a worker thread so the
control thread never waits for the network, and `PolicyChunkSource` (requests.py) is one request,
real-time chunking (rtc.py: the prefix, the options, the canary) included. The ROS inference node
wraps the driver.
"""
from so101_policy.streaming.chunk_checks import ActionValidator, ValidationConfig
from so101_policy.streaming.driver import StreamingDriver
from so101_policy.streaming.requests import PolicyChunkSource, RtcState
from so101_policy.streaming.rtc import RtcConfig, RtcPrefix
from so101_policy.streaming.scheduler import (
    AcceptedChunk,
    BlendMode,
    ChunkReply,
    ChunkScheduler,
    SchedulerConfig,
    Tick,
    TickStatus,
)

__all__ = [
    "AcceptedChunk",
    "ActionValidator",
    "BlendMode",
    "ChunkReply",
    "ChunkScheduler",
    "PolicyChunkSource",
    "RtcConfig",
    "RtcPrefix",
    "RtcState",
    "SchedulerConfig",
    "StreamingDriver",
    "Tick",
    "TickStatus",
    "ValidationConfig",
]
