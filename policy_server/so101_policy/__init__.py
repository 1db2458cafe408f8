"""so101_policy: Isaac-GR00T wire codec, client, policy server and action-chunk streaming.

Robot side: PolicyClient (every msgpack generation, typed errors), ObservationBuilder and
ActionDecoder (SO-100/SO-101 data configs, ROS radians ↔ the policy's units),
so101_policy.streaming (ChunkScheduler, StreamingDriver, real-time chunking) and
so101_policy.inference (what the inference node runs). Server side: PolicyServer with the replay,
synthetic and gr00t backends, run by `so101-policy-server`. Only so101_policy.nodes (the ROS inference node) imports ROS.
"""
from so101_policy.embodiment.action_decoder import ActionDecoder
from so101_policy.embodiment.data_config import DATA_CONFIGS, DataConfig, JointGroup, data_config, default_data_config
from so101_policy.embodiment.joint_units import JointUnits, PolicyUnits
from so101_policy.embodiment.observation_builder import ObservationBuilder, RobotObservation
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
from so101_policy.server.policy_server import PolicyServer, ServerConfig
from so101_policy.wire.client import PolicyClient
from so101_policy.wire.generations import ArrayForm, Protocol
from so101_policy.wire.modality import ActionConfig, ModalityConfig

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
