"""SO-100/SO-101 data configs: which cameras, joint groups and language key a checkpoint expects.

GR00T checkpoints fine-tuned on SO-10x LeRobot data split the six joints into `single_arm`
(shoulder_pan..wrist_roll) and `gripper` (docs/reference/gr00t-wire.md §7). The configs differ in camera
names and, for N1.6+, in how actions are represented; the flat (N1.5) or nested (N1.6+) layout
on the wire is the generation's business, not the config's (observation.py, actions.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from so101_calibration import JOINT_NAMES
from so101_policy.wire.generations import Protocol
from so101_policy.wire.modality import ActionConfig, ModalityConfig

TASK_DESCRIPTION_KEY = "annotation.human.task_description"
"""SO-100 checkpoints' language key. (`annotation.human.action.task_description` is GR1's.)"""
DEFAULT_ACTION_HORIZON = 16


@dataclass(frozen=True)
class JointGroup:
    """A named slice of the six joints, e.g. single_arm = the first five."""

    name: str
    joints: tuple[str, ...]

    @property
    def indices(self) -> tuple[int, ...]:
        return tuple(JOINT_NAMES.index(joint) for joint in self.joints)


SO100_GROUPS = (JointGroup("single_arm", JOINT_NAMES[:5]), JointGroup("gripper", ("gripper",)))


@dataclass(frozen=True)
class DataConfig:
    """What one checkpoint observes and predicts, by name (units are configured separately)."""

    name: str
    cameras: tuple[str, ...]
    groups: tuple[JointGroup, ...] = SO100_GROUPS
    language_key: str = TASK_DESCRIPTION_KEY
    action_horizon: int = DEFAULT_ACTION_HORIZON
    action_configs: tuple[ActionConfig, ...] | None = None
    """N1.6+ only: one per action group (relative arm, absolute gripper for the stock SO100 config)."""

    def __post_init__(self) -> None:
        covered = sorted(i for group in self.groups for i in group.indices)
        if covered != list(range(len(JOINT_NAMES))):
            raise ValueError(f"data config {self.name!r}: joint groups must cover each of {JOINT_NAMES} exactly once")
        if self.action_horizon < 1:
            raise ValueError(f"data config {self.name!r}: action_horizon must be >= 1, got {self.action_horizon}")

    def with_overrides(self, language_key: str | None = None, action_horizon: int | None = None) -> DataConfig:
        """The same config for a checkpoint with another language key or chunk length."""
        return replace(
            self,
            language_key=self.language_key if language_key is None else language_key,
            action_horizon=self.action_horizon if action_horizon is None else action_horizon,
        )

    def modality_configs(self, protocol: Protocol) -> dict[str, ModalityConfig]:
        """What `get_modality_config` returns for this config: keys prefixed in N1.5, bare in N1.6+."""

        def keys(prefix: str, names: tuple[str, ...]) -> tuple[str, ...]:
            return names if protocol.nested else tuple(f"{prefix}.{name}" for name in names)

        group_names = tuple(group.name for group in self.groups)
        return {
            "video": ModalityConfig((0,), keys("video", self.cameras)),
            "state": ModalityConfig((0,), keys("state", group_names)),
            "action": ModalityConfig(
                tuple(range(self.action_horizon)),
                keys("action", group_names),
                action_configs=self.action_configs if protocol.nested else None,
            ),
            "language": ModalityConfig((0,), (self.language_key,)),
        }


DATA_CONFIGS: dict[str, DataConfig] = {
    config.name: config
    for config in (
        DataConfig("so100", cameras=("webcam",)),
        DataConfig("so100_dualcam", cameras=("front", "wrist")),
        DataConfig(
            "so100_new_embodiment",  # N1.6+ examples/SO100, registered for EmbodimentTag.NEW_EMBODIMENT
            cameras=("front", "wrist"),
            action_configs=(
                ActionConfig(rep="RELATIVE", type="NON_EEF", format="DEFAULT"),
                ActionConfig(rep="ABSOLUTE", type="NON_EEF", format="DEFAULT"),
            ),
        ),
    )
}


def data_config(name: str) -> DataConfig:
    try:
        return DATA_CONFIGS[name]
    except KeyError:
        raise KeyError(f"unknown data config {name!r}; known: {', '.join(DATA_CONFIGS)}") from None


def default_data_config(protocol: Protocol) -> DataConfig:
    """so100_dualcam for N1.5 servers (its DATA_CONFIG_MAP name), the N1.6+ SO100 layout otherwise."""
    return DATA_CONFIGS["so100_new_embodiment" if protocol.nested else "so100_dualcam"]
