"""The recorder node's parameters, and the DemoRecorder they describe (no ROS here).

Inputs are topics: the observed joints (the follower's states in ROS radians, or a simulator's
in sim names and units, converted back through the sim mapping), the commands (teleop's or the
policy's), one image topic per recorded camera (real cameras, the twin's, or both under
different names) and, with a task, the pose of each of its objects (/sim/objects/<name>/pose).
Outputs: an Isaac Lab HDF5 file and/or a LeRobot v3 dataset; either may be left empty, not both.

The HDF5 file's profile (isaaclab_layout.py): `default` writes the recorded steps in the sim
mapping's units; `leisaac` writes LeIsaac's units (its USD joint limits, from the follower's
calibration) at the task's step rate. A task (`task`: a shipped id or a YAML file) names the
Isaac task (env_name), its objects and how subtasks end, so the file carries datagen_info.

Both outputs carry a provenance manifest of the recording (recording_manifest): these
parameters, the task, the arm and its calibration's hash, the cameras, the simulator
(`simulator`: the MuJoCo twin's model and scene hashed, or Isaac Sim's names from the
provenance file) and the operator's fields from the provenance file (`provenance_file`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from so101_calibration import (
    SIM_JOINT_NAMES,
    ArmRole,
    SimMapping,
    SimMappingConfig,
    SimUnits,
    UnitConverter,
    build_sim_mapping,
)
from so101_calibration.interface_contract import (
    FOLLOWER_JOINT_COMMANDS,
    FOLLOWER_JOINT_STATES,
    SIM_OBJECT_POSE,
    camera_topics,
)
from so101_sim_bridge.mapping import SimMappingParameters
from so101_sim_bridge.provenance import (
    RECORDING,
    SIMULATORS,
    Manifest,
    ProvenanceError,
    Source,
    calibration_entry,
    load_user_fields,
    new_manifest,
    simulator_entry,
    task_reference,
)
from so101_sim_bridge.recorder.alignment import AlignmentConfig
from so101_sim_bridge.recorder.episode import EpisodeWriter
from so101_sim_bridge.recorder.errors import OutputExistsError, RecorderError
from so101_sim_bridge.recorder.hdf5_writer import Hdf5DemoWriter, Hdf5WriterConfig, check_image_compression
from so101_sim_bridge.recorder.isaaclab_layout import DEFAULT_PROFILE, LEISAAC_PROFILE, PROFILES, LayoutConfig
from so101_sim_bridge.recorder.lerobot_writer import LeRobotDatasetWriter, LeRobotWriterConfig
from so101_sim_bridge.recorder.rate import DEFAULT_FPS, checked_fps
from so101_sim_bridge.recorder.recorder import DemoRecorder, RecorderConfig
from so101_sim_bridge.recorder.video import VideoConfig
from so101_sim_bridge.tasks import TaskSpec, load_task

STATE_UNITS = ("ros", "sim")
RESUME_HINT = (
    "The recorder node resumes with its resume parameter: `so101 run twin --set recorder.resume=true`, "
    "or `resume: true` in the recorder's params file (recorder_params_file:=...) under ros2 launch."
)


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
    video_codec: str = field(
        default=VideoConfig.codec, metadata={"help": "LeRobot video: h264 (3 ms a 640x480 frame) | libsvtav1 (17 ms)"}
    )
    video_crf: int = field(default=VideoConfig.crf, metadata={"help": "LeRobot video quality: lower is better, larger"})
    video_preset: str = field(
        default=VideoConfig.preset, metadata={"help": "encoder speed preset (h264: ultrafast..veryslow; libsvtav1: "
                                                      "0..13); empty: the codec's default (superfast; 12)"}
    )
    flush_every: int = field(default=100, metadata={"help": "HDF5 flush period, steps"})
    hdf5_image_compression: str = field(
        default=Hdf5WriterConfig.image_compression,
        metadata={"help": "HDF5 camera frames: none (fastest) | lzf | gzip (smaller, slower; hdf5_gzip_level)"},
    )
    hdf5_gzip_level: int = field(default=Hdf5WriterConfig.gzip_level, metadata={"help": "gzip level 1..9"})
    profile: str = field(
        default=DEFAULT_PROFILE,
        metadata={"help": "HDF5 profile: default (recorded steps, sim units) | leisaac (LeIsaac units, task rate)"},
    )
    task: str = field(
        default="", metadata={"help": "task spec: a shipped id or a YAML file (objects, env_name, subtask signals)"}
    )
    image_size: tuple[int, ...] = field(
        default=(), metadata={"help": "HDF5 images [height, width]; empty: the profile's (leisaac 480x640, else as recorded)"}
    )
    keyboard: bool = field(
        default=True, metadata={"help": "B/N/R keys and a status line when stdin is a terminal"}
    )
    simulator: str = field(
        default="", metadata={"help": "where sim topics come from: mujoco (the twin) | isaac; empty: none (provenance)"}
    )
    provenance_file: str = field(
        default="", metadata={"help": "operator, consent, licence... YAML; empty: $SO101_PROVENANCE or "
                                      "~/.config/so101/provenance.yaml, else 'unknown'"}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (self.hdf5_path or self.lerobot_root):
            raise ValueError("nothing to write: set hdf5_path and/or lerobot_root")
        checked_fps(self.fps)
        if self.state_units not in STATE_UNITS:
            raise ValueError(f"state_units {self.state_units!r} unknown; use {' or '.join(STATE_UNITS)}")
        camera_topics(self.cameras)
        self.video_config()  # checks the codec exists in this PyAV build, and its settings
        check_image_compression(self.hdf5_image_compression, self.hdf5_gzip_level)
        if self.flush_every < 1:
            raise ValueError(f"flush_every must be >= 1 step, got {self.flush_every}")
        if self.profile not in PROFILES:
            raise ValueError(f"profile {self.profile!r} unknown; profiles are {', '.join(PROFILES)}")
        if self.simulator and self.simulator not in SIMULATORS:
            raise ValueError(f"simulator {self.simulator!r} unknown; use {' or '.join(SIMULATORS)}, or '' for none")
        if self.image_size and len(self.image_size) != 2:
            raise ValueError(f"image_size must be [height, width] or empty, got {list(self.image_size)}")
        object.__setattr__(self, "_task", load_task(self.task) if self.task else None)

    @property
    def task_spec(self) -> TaskSpec | None:
        """The loaded task spec (checked when the config is made)."""
        return self._task

    @property
    def object_topic_map(self) -> dict[str, str]:
        """Recorded object (the simulator's name) → its pose topic."""
        task = self.task_spec
        return {name: SIM_OBJECT_POSE.format(name=name) for name in (task.scene.objects if task else ())}

    @property
    def camera_topic_map(self) -> dict[str, str]:
        """Camera name → its image topic."""
        return camera_topics(self.cameras)

    def video_config(self) -> VideoConfig:
        return VideoConfig(codec=self.video_codec, crf=self.video_crf, preset=self.video_preset)

    def recorder_config(self) -> RecorderConfig:
        alignment = AlignmentConfig(fps=self.fps, max_latency_s=self.max_latency_s)
        return RecorderConfig(cameras=tuple(self.camera_topic_map), alignment=alignment,
                              objects=tuple(self.object_topic_map), intervention=self.record_intervention)


def open_recorder(config: RecorderNodeConfig, kind: str = RECORDING, tool: str = "recorder_node",
                  sources: tuple[Source, ...] = ()) -> tuple[DemoRecorder, SimMapping]:
    """The recorder and its writers, and the sim mapping (for sim joint states).

    The follower's calibration is loaded only when something needs it (LeRobot units, leisaac sim
    units or profile). An output that already exists raises OutputExistsError before anything is
    written; an HDF5 file created here is removed again if the LeRobot dataset then cannot be created.
    Errors name the parameter (hdf5_path, lerobot_root) and say how to set it on the node.
    Both outputs' provenance is recording_manifest's, with `kind`, `tool` and `sources` (from-bag: a conversion).
    """
    mapping_config = config.mapping_config()
    leisaac = config.profile == LEISAAC_PROFILE
    needs_calibration = bool(config.lerobot_root) or mapping_config.units is SimUnits.LEISAAC or leisaac
    calibration, calibration_file = (config.locate_arm_calibration(ArmRole.FOLLOWER) if needs_calibration
                                     else (None, None))
    provenance = recording_manifest(config, calibration_file, kind, tool, sources)
    mapping = build_sim_mapping(mapping_config, calibration)
    file_mapping = (
        build_sim_mapping(SimMappingConfig(SIM_JOINT_NAMES["so101"], SimUnits.LEISAAC), calibration) if leisaac
        else mapping
    )
    writers: list[EpisodeWriter] = []
    created: Path | None = None
    if config.hdf5_path:
        path = Path(config.hdf5_path)
        created = None if path.exists() else path
        file_units = SimUnits.LEISAAC if leisaac else mapping_config.units
        extra = {"cameras": list(config.camera_topic_map), "sim_units": file_units.value}
        layout = LayoutConfig(profile=config.profile, task=config.task_spec,
                              image_size=tuple(config.image_size) if config.image_size else None)
        hdf5 = Hdf5WriterConfig(path, resume=config.resume, layout=layout, flush_every=config.flush_every,
                                image_compression=config.hdf5_image_compression, gzip_level=config.hdf5_gzip_level,
                                fps=config.fps, extra_env_args=extra, provenance=provenance)
        try:
            writers.append(_output("hdf5_path", config.hdf5_path, lambda: Hdf5DemoWriter(hdf5, file_mapping)))
        except OutputExistsError as exc:
            raise OutputExistsError(f"{exc}. {RESUME_HINT}") from None
    if config.lerobot_root:
        lerobot = LeRobotWriterConfig(Path(config.lerobot_root), fps=config.fps, video=config.video_config(),
                                      include_failed=config.include_failed, provenance=provenance)
        units = UnitConverter(calibration, use_degrees=config.use_degrees)
        try:
            writers.append(_output("lerobot_root", config.lerobot_root, lambda: LeRobotDatasetWriter(lerobot, units)))
        except BaseException:
            if created is not None:
                created.unlink(missing_ok=True)
            raise
    return DemoRecorder(config.recorder_config(), writers), mapping


def recording_manifest(config: RecorderNodeConfig, calibration_file: Path | None, kind: str = RECORDING,
                       tool: str = "recorder_node", sources: tuple[Source, ...] = ()) -> Manifest:
    """The provenance of what `config` records: these parameters, the task, the arm, cameras, simulator, user fields.

    The calibration's hash is recorded when the recorder loaded one (LeRobot units, leisaac units; else null);
    the servos' model and firmware are not read by the recorder. A provenance file that is
    missing or malformed is a RecorderError: the recording must not start under 'unknown' by mistake.
    """
    try:
        user = load_user_fields(config.provenance_file or None)
    except ProvenanceError as exc:
        raise RecorderError(f"provenance_file: {exc}") from None
    robot = {
        "arm_id": config.arm_id_for(ArmRole.FOLLOWER),
        "calibration": calibration_entry(calibration_file),
        "servos": "not read by the recorder",
        "cameras": [{"name": name, "topic": topic, "fps": config.fps,
                     "image_size": list(config.image_size) or "as recorded"}
                    for name, topic in config.camera_topic_map.items()],
    }
    return new_manifest(kind, tool, config, user=user, task=task_reference(config.task_spec), robot=robot,
                        simulator=simulator_entry(config.simulator, user), sources=sources)


def _output(parameter: str, path: str, make: Callable[[], EpisodeWriter]) -> EpisodeWriter:
    """make() the writer; an OSError (no such folder, no permission) becomes a RecorderError naming the parameter."""
    try:
        return make()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise RecorderError(
            f"{parameter} {path!r}: cannot write there ({reason}). Give a writable path, e.g. "
            f"`--set recorder.{parameter}=...` (so101 run) or `{parameter}:` in the recorder's params file"
        ) from None
