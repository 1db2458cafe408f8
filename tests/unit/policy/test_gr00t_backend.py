"""The gr00t backend: Isaac-GR00T's policy classes behind our server.

There is no GPU, no checkpoint and no Isaac-GR00T here, so the GPU boundary is mocked:
StandInGr00tPolicy / StandInGr00tN15Policy are stand-ins with the upstream classes' interface
(N1.6+ gr00t.policy.gr00t_policy.Gr00tPolicy, N1.5 gr00t.model.policy.Gr00tPolicy), and the
loader is exercised against stand-in `gr00t` modules. Everything on our side of that
boundary (adapters, server, wire, client) is real.
"""
from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import pytest

from so101_policy import BackendUnavailableError, ModalityConfig, Protocol
from so101_policy.server.backends.gr00t import Gr00tConfig, Gr00tN15Policy, Gr00tN16Policy, load_gr00t_policy


class ActionRepresentation(Enum):  # stand-in for gr00t.data.types enums: sent by name
    RELATIVE = 1
    ABSOLUTE = 2


@dataclass
class StandInActionConfig:
    rep: ActionRepresentation
    type: str = "NON_EEF"
    format: str = "DEFAULT"
    state_key: str | None = None


@dataclass
class StandInModalityConfig:
    delta_indices: list[int]
    modality_keys: list[str]
    sin_cos_embedding_keys: list[str] | None = None
    mean_std_embedding_keys: list[str] | None = None
    action_configs: list[StandInActionConfig] | None = None


@dataclass
class StandInGr00tPolicy:
    """MOCK of the GPU boundary: the N1.6+ Gr00tPolicy interface, answering a fixed chunk."""

    embodiment_tag: object = None
    model_path: str = ""
    device: str = "cuda"
    strict: bool = True
    calls: list = field(default_factory=list)

    def get_action(self, observation, options=None):
        self.calls.append(("get_action", options))
        state = observation["state"]["single_arm"]
        return {"single_arm": np.repeat(state, 16, axis=1), "gripper": np.ones((1, 16, 1), np.float32)}, {"t": 1}

    def get_modality_config(self):
        return {"action": StandInModalityConfig(
            list(range(16)), ["single_arm", "gripper"],
            action_configs=[StandInActionConfig(ActionRepresentation.RELATIVE),
                            StandInActionConfig(ActionRepresentation.ABSOLUTE)])}

    def reset(self, options=None):
        self.calls.append(("reset", options))
        return {"episode": 2}


class StandInGr00tN15Policy:
    """MOCK of the GPU boundary: the N1.5 Gr00tPolicy interface (flat observation in, action dict out)."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def get_action(self, observation):
        return {"action.single_arm": np.zeros((16, 5), np.float32), "action.gripper": np.zeros((16, 1), np.float32)}

    def get_modality_config(self):
        return {"action": StandInModalityConfig([0, 1], ["action.single_arm"])}


def nested_state():
    return {"state": {"single_arm": np.full((1, 1, 5), 3.0, np.float32)}}


@pytest.mark.parametrize("protocol", [Protocol.N1_6, Protocol.N1_7])
def test_an_n16_policy_is_served_end_to_end(protocol, serve, connect):
    upstream = StandInGr00tPolicy()
    served = serve(Gr00tN16Policy(upstream), protocol)
    client = connect(served.port)
    assert client.protocol is protocol
    assert client.get_modality_config()["action"].action_configs[0].rep == "RELATIVE"
    assert client.reset({"seed": 1}) == {"episode": 2}
    action, info = client.get_action(nested_state(), {"rtc": True})
    assert action["single_arm"].shape == (1, 16, 5) and float(action["single_arm"][0, 5, 2]) == 3.0
    assert info == {"t": 1}
    assert upstream.calls == [("reset", {"seed": 1}), ("get_action", {"rtc": True})]


def test_an_n15_policy_is_served_end_to_end(serve, connect):
    served = serve(Gr00tN15Policy(StandInGr00tN15Policy()), Protocol.N1_5)
    client = connect(served.port)
    assert client.protocol is Protocol.N1_5
    assert client.get_modality_config() == {"action": ModalityConfig((0, 1), ("action.single_arm",))}
    action, info = client.get_action({"state.single_arm": np.zeros((1, 5))})
    assert set(action) == {"action.single_arm", "action.gripper"} and info == {}
    assert client.reset() == {}


@pytest.fixture
def stand_in_gr00t(monkeypatch):
    """MOCK of the GPU boundary: stand-in `gr00t` modules with both releases' import paths."""
    created = {}

    def module(name: str, **attributes) -> None:
        monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(**attributes))

    class EmbodimentTag(str, Enum):
        NEW_EMBODIMENT = "new_embodiment"

    class N16(StandInGr00tPolicy):
        def __init__(self, embodiment_tag, model_path, *, device, strict=True):
            super().__init__(embodiment_tag, model_path, device, strict)
            self.model = types.SimpleNamespace(action_head=types.SimpleNamespace(num_inference_timesteps=4))
            created["n16"] = self

    class DataConfig:
        def modality_config(self):
            return "modality config of so100_dualcam"

        def transform(self):
            return "transform of so100_dualcam"

    def n15(**kwargs):
        created["n15"] = StandInGr00tN15Policy(**kwargs)
        return created["n15"]

    module("gr00t.data.embodiment_tags", EmbodimentTag=EmbodimentTag)
    module("gr00t.policy.gr00t_policy", Gr00tPolicy=N16)
    module("gr00t.experiment.data_config", DATA_CONFIG_MAP={"so100_dualcam": DataConfig()})
    module("gr00t.model.policy", Gr00tPolicy=n15)
    return created


def test_the_n16_loader_builds_upstreams_policy_with_our_settings(stand_in_gr00t):
    policy = load_gr00t_policy(Gr00tConfig("/models/so101", denoising_steps=12, device="cuda:1"), Protocol.N1_7)
    upstream = stand_in_gr00t["n16"]
    assert isinstance(policy, Gr00tN16Policy) and policy.upstream is upstream
    assert (upstream.embodiment_tag.value, upstream.model_path, upstream.device, upstream.strict) == \
        ("new_embodiment", "/models/so101", "cuda:1", True)
    assert upstream.model.action_head.num_inference_timesteps == 12


def test_the_n15_loader_uses_the_data_config_and_denoising_steps(stand_in_gr00t):
    policy = load_gr00t_policy(Gr00tConfig("/models/so100", data_config="so100_dualcam", denoising_steps=16),
                               Protocol.N1_5)
    assert isinstance(policy, Gr00tN15Policy)
    assert stand_in_gr00t["n15"].kwargs == {
        "model_path": "/models/so100", "modality_config": "modality config of so100_dualcam",
        "modality_transform": "transform of so100_dualcam", "embodiment_tag": "new_embodiment",
        "denoising_steps": 16, "device": "cuda"}
    with pytest.raises(ValueError, match="unknown Isaac-GR00T data config 'so100'"):
        load_gr00t_policy(Gr00tConfig("/m", data_config="so100"), Protocol.N1_5)


@pytest.mark.parametrize("protocol", list(Protocol))
def test_without_isaac_gr00t_the_error_says_how_to_install_it(protocol, monkeypatch):
    for name in ("gr00t", "gr00t.policy.gr00t_policy", "gr00t.model.policy", "gr00t.experiment.data_config",
                 "gr00t.data.embodiment_tags"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError, installed or not
    with pytest.raises(BackendUnavailableError, match="not installed.*pip install -e .*--backend replay"):
        load_gr00t_policy(Gr00tConfig("/models/x"), protocol)
