"""so101_policy: Isaac-GR00T wire codec, client, policy server and action-chunk streaming.

Robot side: PolicyClient (every msgpack generation, typed errors), ObservationBuilder and
ActionDecoder (SO-100/SO-101 data configs, ROS radians ↔ the policy's units),
so101_policy.streaming (ChunkScheduler, StreamingDriver) and so101_policy.inference (what the
inference node runs). Server side: PolicyServer with the replay and gr00t backends, run by
`so101-policy-server`. Only so101_policy.nodes (the ROS inference node) imports ROS.
"""
from so101_policy.actions import ActionDecoder
from so101_policy.client import PolicyClient
from so101_policy.data_config import DATA_CONFIGS, DataConfig, JointGroup, data_config, default_data_config
from so101_policy.errors import (
    BackendUnavailableError,
    BadActionError,
    DatasetError,
    ObservationError,
    PolicyError,
    PolicyServerError,
    PolicyTimeoutError,
    ProtocolMismatchError,
    WireFormatError,
)
from so101_policy.modality import ActionConfig, ModalityConfig
from so101_policy.observation import ObservationBuilder, RobotObservation
from so101_policy.protocol import ArrayForm, Protocol
from so101_policy.server import PolicyServer, ServerConfig
from so101_policy.units import JointUnits, PolicyUnits

__all__ = [
    "DATA_CONFIGS",
    "ActionConfig",
    "ActionDecoder",
    "ArrayForm",
    "BackendUnavailableError",
    "BadActionError",
    "DataConfig",
    "DatasetError",
    "JointGroup",
    "JointUnits",
    "ModalityConfig",
    "ObservationBuilder",
    "ObservationError",
    "PolicyClient",
    "PolicyError",
    "PolicyServer",
    "PolicyServerError",
    "PolicyTimeoutError",
    "PolicyUnits",
    "Protocol",
    "ProtocolMismatchError",
    "RobotObservation",
    "ServerConfig",
    "WireFormatError",
    "data_config",
    "default_data_config",
]
