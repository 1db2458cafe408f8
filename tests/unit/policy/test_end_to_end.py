"""Our client against our server over real ZMQ on loopback, in every generation, with real recorded data."""
from __future__ import annotations

import msgpack
import numpy as np
import pytest

from so101_policy import (
    ActionDecoder,
    JointUnits,
    ObservationBuilder,
    PolicyServerError,
    PolicyUnits,
    Protocol,
    ProtocolMismatchError,
    RobotObservation,
    default_data_config,
)
from so101_policy.server.backends.replay import ReplayPolicy
from so101_policy.server.datasets import read_episode
from so101_policy.wire.codec import TORCH_ZIP_MAGIC, pack

TICK_RAD = 2 * np.pi / 4095
ROUND_TRIP_RAD = 1.6 * TICK_RAD
"""radians → LeRobot units rounds to a tick (½), LeRobot units → radians truncates like LeRobot (1)."""


class FakeClock:
    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def replay(isaaclab_hdf5, calibration):
    """replay(protocol) → (ReplayPolicy in LeRobot degrees over an HDF5 episode, its clock)."""

    def make(protocol: Protocol):
        path = isaaclab_hdf5(name=f"demos_{protocol.value}.hdf5")
        clock = FakeClock()
        policy = ReplayPolicy(read_episode(path), default_data_config(protocol), protocol, JointUnits.DEGREES,
                              calibration, clock=clock)
        return policy, clock

    return make


def robot_observation(positions: np.ndarray) -> RobotObservation:
    frame = np.zeros((48, 64, 3), dtype=np.uint8)
    return RobotObservation(positions, {"front": frame, "wrist": frame}, "pick up the cube", time=0.0)


@pytest.mark.parametrize("protocol", list(Protocol))
@pytest.mark.parametrize("client_protocol", ["explicit", "auto"])
def test_every_generation_end_to_end(protocol, client_protocol, replay, serve, connect, calibration,
                                    recorded_radians):
    policy, clock = replay(protocol)
    served = serve(policy, protocol)
    client = connect(served.port, protocol=protocol if client_protocol == "explicit" else "auto")
    units = PolicyUnits(JointUnits.DEGREES, calibration)
    config = default_data_config(protocol)

    assert client.ping()
    assert client.protocol is protocol
    assert client.get_modality_config() == config.modality_configs(protocol)
    assert client.reset() == {}
    clock.now += 0.5  # 15 frames after reset
    observation = ObservationBuilder(config, protocol, units).build(robot_observation(np.zeros(6)))
    action, info = client.get_action(observation)
    chunk = ActionDecoder(config, protocol, units).decode(action)

    recorded = recorded_radians()[15:31].astype(np.float64)
    assert chunk.shape == (16, 6)
    np.testing.assert_allclose(chunk, recorded, atol=ROUND_TRIP_RAD)
    assert info == ({"replay_frame_index": 15} if protocol.nested else {})
    client.kill()
    served.thread.join(timeout=5)
    assert not served.thread.is_alive()


@pytest.mark.parametrize("protocol", list(Protocol))
def test_auto_detection_has_no_side_effects(protocol, replay, serve, connect):
    policy, clock = replay(protocol)
    calls = []
    policy.reset = lambda options: calls.append("reset") or {}
    served = serve(policy, protocol)
    assert connect(served.port).detect_protocol() is protocol
    assert calls == []


def test_the_api_token_is_checked_first(replay, serve, connect):
    policy, _ = replay(Protocol.N1_6)
    served = serve(policy, Protocol.N1_6, api_token="s3cret")
    with pytest.raises(PolicyServerError, match="Unauthorized: Invalid API token") as caught:
        connect(served.port, protocol="n1.6").ping()
    assert caught.value.message == "Unauthorized: Invalid API token"
    with pytest.raises(PolicyServerError, match="Unauthorized"):
        connect(served.port, protocol="n1.6", api_token="wrong").reset()
    assert connect(served.port, protocol="n1.6", api_token="s3cret").ping()


@pytest.mark.parametrize("client,server", [(Protocol.N1_5, Protocol.N1_6), (Protocol.N1_6, Protocol.N1_5),
                                           (Protocol.N1_6, Protocol.N1_7), (Protocol.N1_7, Protocol.N1_5)])
def test_a_client_of_another_generation_gets_a_typed_error(client, server, replay, serve, connect):
    policy, _ = replay(server)
    served = serve(policy, server)
    with pytest.raises(ProtocolMismatchError, match=f"configured for {client.value}.*speaks {server.value}"):
        connect(served.port, protocol=client).get_modality_config()


def test_an_n15_observation_sent_to_an_n16_server_gets_the_server_error_back(replay, serve, connect, calibration):
    policy, _ = replay(Protocol.N1_6)
    served = serve(policy, Protocol.N1_6)
    flat = ObservationBuilder(default_data_config(Protocol.N1_5), Protocol.N1_5,
                              PolicyUnits(JointUnits.DEGREES, calibration)).build(robot_observation(np.zeros(6)))
    with pytest.raises(PolicyServerError, match="N1.5 client talking to an N1.6"):
        connect(served.port, protocol="n1.5").get_action(flat)
    with pytest.raises(PolicyServerError, match="observation must hold a 'video' map"):
        connect(served.port, protocol="n1.6").get_action(flat)


def test_an_n15_client_treats_a_missing_reset_endpoint_as_a_stateless_server(scripted_peer, connect):
    def upstream_n15(request: bytes) -> bytes:
        return msgpack.packb({"error": f"Unknown endpoint: {msgpack.unpackb(request)['endpoint']}"})

    peer = scripted_peer(upstream_n15)
    assert connect(peer.port, protocol="n1.5").reset() == {}
    with pytest.raises(PolicyServerError, match="Unknown endpoint: reset"):
        connect(peer.port, protocol="n1.6").reset()


@pytest.mark.parametrize("reply", [TORCH_ZIP_MAGIC + b"\0" * 60, b"ERROR"])
def test_a_torch_era_server_is_recognised_and_refused(reply, scripted_peer, connect):
    peer = scripted_peer(lambda request: reply)
    with pytest.raises(ProtocolMismatchError, match="torch-pickle generation"):
        connect(peer.port).detect_protocol()


def test_a_server_without_modality_configs_needs_an_explicit_generation(scripted_peer, connect):
    peer = scripted_peer(lambda request: pack({}, Protocol.N1_6.array_form))
    with pytest.raises(ProtocolMismatchError, match="explicitly"):
        connect(peer.port).get_action({})


def test_replies_are_decoded_liberally_whatever_the_configured_generation(scripted_peer, connect):
    """An N1.6-configured client still decodes msgpack-numpy arrays (a peer of the uncertain E6 kind)."""
    chunk = np.ones((1, 16, 5), dtype=np.float32)
    peer = scripted_peer(lambda request: pack([{"single_arm": chunk}, {}], Protocol.N1_7.array_form))
    action, info = connect(peer.port, protocol="n1.6").get_action({"state": {}})
    assert np.array_equal(action["single_arm"], chunk) and info == {}
