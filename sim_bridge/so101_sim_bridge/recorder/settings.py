"""The recorder node's parameters, and the DemoRecorder they describe (no ROS here).

Inputs are topics: the observed joints (the follower's states in ROS radians, or a simulator's
in sim names and units, converted back through the same sim mapping the HDF5 file is written
in), the commands (teleop's or the policy's), and one image topic per recorded camera (real
cameras, the twin's, or both under different names). Outputs: an Isaac Lab HDF5 file and/or a
LeRobot v3 dataset; either may be left empty, not both.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from so101_calibration import ArmRole, SimMapping, SimUnits, UnitConverter, build_sim_mapping
from so101_calibration.interface_contract import FOLLOWER_JOINT_COMMANDS, FOLLOWER_JOINT_STATES, camera_topics
from so101_sim_bridge.mapping import SimMappingParameters
from so101_sim_bridge.recorder.alignment import AlignmentConfig
from so101_sim_bridge.recorder.episode import EpisodeWriter
from so101_sim_bridge.recorder.hdf5_writer import Hdf5DemoWriter, Hdf5WriterConfig
from so101_sim_bridge.recorder.lerobot_writer import LeRobotDatasetWriter, LeRobotWriterConfig
from so101_sim_bridge.recorder.rate import DEFAULT_FPS, checked_fps
from so101_sim_bridge.recorder.recorder import DemoRecorder, RecorderConfig
from so101_sim_bridge.recorder.video import VideoConfig

STATE_UNITS = ("ros", "sim")


@dataclass(frozen=True)
class RecorderNodeConfig(SimMappingParameters):
    """The recorder node's parameters (with the sim mapping's, inherited: the HDF5 file's units)."""

    hdf5_path: str = field(default="demos/so101_demos.hdf5", metadata={"help": "Isaac Lab HDF5 file; empty: none"})
    lerobot_root: str = field(
        default="demos/so101_lerobot", metadata={"help": "new LeRobot v3 dataset folder; empty: none"}
    )
    resume: bool = field(
        default=False, metadata={"help": "append to an existing HDF5 file (LeRobot: give a new folder)"}
    )
    fps: int = field(default=DEFAULT_FPS, metadata={"help": "recording rate, steps per second"})
    max_latency_s: float = field(
        default=0.1, metadata={"help": "how late a sample may arrive after its stamp (slow cameras: more)"}
    )
    state_topic: str = field(default=FOLLOWER_JOINT_STATES.name, metadata={"help": "observed joint states"})
    state_units: str = field(
        default="ros", metadata={"help": "ros: our joint names in radians | sim: the simulator's (sim mapping)"}
    )
    action_topic: str = field(
        default=FOLLOWER_JOINT_COMMANDS.name, metadata={"help": "commands, ROS radians by name"}
    )
    cameras: tuple[str, ...] = field(
        default=("wrist", "front"),
        metadata={"help": "recorded cameras: <name> reads cameras/<name>/image_raw, <name>=<topic> another topic"},
    )
    instruction: str = field(default="", metadata={"help": "the task, until one arrives on policy/instruction"})
    stamp_on_arrival: bool = field(
        default=False, metadata={"help": "time samples on arrival, for stamps not on this clock (Isaac: sim time)"}
    )
    include_failed: bool = field(default=False, metadata={"help": "also export failed episodes to LeRobot"})
    record_intervention: bool = field(
        default=False, metadata={"help": "record who drove each step (a command mux's source): the intervention flag"}
    )
    use_degrees: bool = field(default=True, metadata={"help": "LeRobot units: degrees (else -100..100)"})
    video_codec: str = field(default="libsvtav1", metadata={"help": "LeRobot video: libsvtav1 | h264"})
    flush_every: int = field(default=100, metadata={"help": "HDF5 flush period, steps"})
    keyboard: bool = field(
        default=True, metadata={"help": "B/N/R keys and a status line when stdin is a terminal"}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (self.hdf5_path or self.lerobot_root):
            raise ValueError("nothing to write: set hdf5_path and/or lerobot_root")
        checked_fps(self.fps)
        if self.state_units not in STATE_UNITS:
            raise ValueError(f"state_units {self.state_units!r} unknown; use {' or '.join(STATE_UNITS)}")
        camera_topics(self.cameras)
        VideoConfig(codec=self.video_codec)  # checks the codec exists in this PyAV build
        if self.flush_every < 1:
            raise ValueError(f"flush_every must be >= 1 step, got {self.flush_every}")

    @property
    def camera_topic_map(self) -> dict[str, str]:
        """Camera name → its image topic."""
        return camera_topics(self.cameras)

    def recorder_config(self) -> RecorderConfig:
        alignment = AlignmentConfig(fps=self.fps, max_latency_s=self.max_latency_s)
        return RecorderConfig(cameras=tuple(self.camera_topic_map), alignment=alignment,
                              intervention=self.record_intervention)


def open_recorder(config: RecorderNodeConfig) -> tuple[DemoRecorder, SimMapping]:
    """The recorder and its writers, and the sim mapping (for sim joint states).

    The follower's calibration is loaded only when something needs it (LeRobot units, leisaac sim
    units). An output that already exists raises OutputExistsError before anything is written;
    an HDF5 file created here is removed again if the LeRobot dataset then cannot be created.
    """
    mapping_config = config.mapping_config()
    needs_calibration = bool(config.lerobot_root) or mapping_config.units is SimUnits.LEISAAC
    calibration = config.load_arm_calibration(ArmRole.FOLLOWER) if needs_calibration else None
    mapping = build_sim_mapping(mapping_config, calibration)
    writers: list[EpisodeWriter] = []
    created: Path | None = None
    if config.hdf5_path:
        path = Path(config.hdf5_path)
        created = None if path.exists() else path
        extra = {"cameras": list(config.camera_topic_map), "sim_units": mapping_config.units.value}
        writers.append(
            Hdf5DemoWriter(
                Hdf5WriterConfig(path, resume=config.resume, flush_every=config.flush_every, fps=config.fps,
                                 extra_env_args=extra),
                mapping,
            )
        )
    if config.lerobot_root:
        try:
            writers.append(
                LeRobotDatasetWriter(
                    LeRobotWriterConfig(
                        Path(config.lerobot_root), fps=config.fps, video=VideoConfig(config.video_codec),
                        include_failed=config.include_failed,
                    ),
                    UnitConverter(calibration, use_degrees=config.use_degrees),
                )
            )
        except BaseException:
            if created is not None:
                created.unlink(missing_ok=True)
            raise
    return DemoRecorder(config.recorder_config(), writers), mapping
