"""DemoConfig: what `so101 demo` runs, on the embedded default or on real arms."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEMO_DOMAIN_ID = 101
"""The emulated demo's own ROS domain: its emulated follower commands must never reach a real
follower node running on the same PC (domain 0, or $ROS_DOMAIN_ID) while the demo runs."""


@dataclass(frozen=True)
class DemoConfig:
    out_dir: Path = Path("out/demo")
    """Each run writes a new <out_dir>/<date-time>/ folder (and points <out_dir>/latest at it)."""
    episodes: int = 3
    """Seed demos recorded before the policy replays the first one."""
    episode_s: float = 10.0
    """Real arms: seconds per recorded demo (emulated: the scripted pick-and-place's length)."""
    deploy_s: float | None = None
    """Seconds the replayed policy drives the follower; None: the replayed demo's length + 2 s."""
    instruction: str = "pick up the red cube and put it by the blue block"
    leader_port: str | None = None
    follower_port: str | None = None
    leader_calibration: str | None = None
    """LeRobot calibration .json or folder (real arms; emulated arms use the shipped ones)."""
    follower_calibration: str | None = None
    leader_id: str | None = None
    follower_id: str | None = None
    allow_motion: bool = False
    """Real arms only: the follower will move (mirroring the leader, then the replayed demo)."""
    rerun: bool = False
    """Also start the rerun node: a live web viewer on localhost."""
    domain_id: int | None = None
    """None: DEMO_DOMAIN_ID when emulated, else $ROS_DOMAIN_ID (so `so101 status` sees real arms)."""
    seed: int = 0
    uart_timing: bool = True
    generated_demos: int = 4
    """Demos MimicGen makes from the seed demos on the twin (so101-mimicgen); 0: no augmentation phase."""

    def __post_init__(self) -> None:
        if (self.leader_port is None) != (self.follower_port is None):
            raise ValueError("give both --leader-port and --follower-port (real arms), or neither (emulated arms)")
        if not self.emulated and not self.allow_motion:
            raise ValueError(
                "on real arms the demo moves the follower (it mirrors the leader, then replays a recorded demo): "
                "clear its workspace and pass --allow-motion"
            )
        if self.episodes < 1:
            raise ValueError(f"episodes must be at least 1, got {self.episodes}")
        if self.generated_demos < 0:
            raise ValueError(f"generated_demos must be 0 (none) or more, got {self.generated_demos}")
        if self.episode_s <= 0 or (self.deploy_s is not None and self.deploy_s <= 0):
            raise ValueError("episode_s and deploy_s must be positive")

    @property
    def emulated(self) -> bool:
        return self.leader_port is None
