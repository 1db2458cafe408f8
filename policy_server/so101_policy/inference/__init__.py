"""The robot side of a deployment, without ROS: what the inference node (so101_policy.nodes) runs.

`InferenceConfig` (config.py) is the node's parameters; `ObservationStore` (readings.py)
keeps the latest readings for the request worker; `PolicyStream` (stream.py) connects to the
server lazily on the worker thread and turns chunks into one target per control tick.
"""
from so101_policy.inference.config import InferenceConfig
from so101_policy.inference.readings import ObservationStore
from so101_policy.inference.stream import Level, PolicySession, PolicyStream, SessionInfo, StreamStatus

__all__ = [
    "InferenceConfig",
    "Level",
    "ObservationStore",
    "PolicySession",
    "PolicyStream",
    "SessionInfo",
    "StreamStatus",
]
