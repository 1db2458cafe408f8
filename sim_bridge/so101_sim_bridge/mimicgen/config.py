"""What a generation run is asked to do (the CLI's options), and the plan it resolves to against the seeds.

Settings left as None take their value from the task spec's DataGenConfig (num_demos:
generation_num_trials, seed, keep_failed: generation_keep_failed, max_failures: max_num_failures)
or from the seed files (cameras, image size and camera rate: as the seeds were recorded), so by
default generated demos look like the recorded ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from so101_sim_bridge.mimicgen.errors import MimicGenError
from so101_sim_bridge.mimicgen.sources import SeedDemos
from so101_sim_bridge.recorder.video import VIDEO_CODECS, VideoConfig
from so101_sim_bridge.twin import TWIN_CAMERAS, TwinCameraConfig

HDF5_NAME = "generated.hdf5"
LEROBOT_NAME = "generated_lerobot"
GR00T_NAME = "generated_gr00t"
"""Where the CLI suggests the GR00T export of the LeRobot copy goes (so101-dataset to-gr00t); the demo puts it there."""
TRIALS_NAME = "trials.jsonl"
REPORT_JSON = "report.json"
REPORT_PNG = "report.png"


@dataclass(frozen=True)
class GenerationConfig:
    seeds: tuple[Path, ...]
    out: Path
    num_demos: int | None = None
    task: str | None = None
    """A task spec (shipped id or YAML file); None: the one the seed files name."""
    workers: int = 1
    ray_address: str | None = None
    resume: bool = False
    seed: int | None = None
    cameras: tuple[str, ...] | None = None
    """Twin cameras to render; None: the seeds' cameras; (): none."""
    image_size: tuple[int, int] | None = None
    """(height, width); None: the seeds' image size (or 240 x 320)."""
    camera_fps: int | None = None
    """New frames per second (each row holds the newest); None: the seeds' recording rate."""
    keep_failed: bool | None = None
    max_failures: int | None = None
    calibration: Path | None = None
    """The arm's LeRobot calibration (.json): the LeRobot copy's units. Needed unless lerobot is False."""
    lerobot: bool = True
    video_codec: str = VideoConfig.codec
    show_progress: bool = True
    provenance_file: Path | None = None
    """The provenance user fields' YAML (operator, consent, licence...); None: $SO101_PROVENANCE or the default file."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "seeds", tuple(Path(p) for p in self.seeds))
        object.__setattr__(self, "out", Path(self.out))
        if self.num_demos is not None and self.num_demos < 1:
            raise MimicGenError(f"--num-demos must be at least 1, got {self.num_demos}")
        if self.workers < 1:
            raise MimicGenError(f"--workers must be at least 1, got {self.workers}")
        if self.max_failures is not None and self.max_failures < 0:
            raise MimicGenError(f"--max-failures must be >= 0, got {self.max_failures}")
        if self.camera_fps is not None and self.camera_fps < 1:
            raise MimicGenError(f"--camera-fps must be at least 1, got {self.camera_fps}")
        if self.video_codec not in VIDEO_CODECS:
            raise MimicGenError(f"--video-codec {self.video_codec!r} unknown; codecs are {', '.join(VIDEO_CODECS)}")
        unknown = set(self.cameras or ()) - set(TWIN_CAMERAS)
        if unknown:
            raise MimicGenError(f"camera(s) {sorted(unknown)} unknown; the twin renders {', '.join(TWIN_CAMERAS)}")
        if self.lerobot and self.calibration is None:
            raise MimicGenError("the LeRobot copy needs the arm's calibration for its units: pass --calibration "
                                "FOLLOWER.json (the follower's LeRobot calibration file), or --no-lerobot")

    @property
    def hdf5_path(self) -> Path:
        return self.out / HDF5_NAME

    @property
    def lerobot_path(self) -> Path:
        return self.out / LEROBOT_NAME

    @property
    def trials_path(self) -> Path:
        return self.out / TRIALS_NAME


@dataclass(frozen=True)
class GenerationPlan:
    """The run's settings with every default resolved (recorded in the output file, compared on --resume)."""

    num_demos: int
    seed: int
    keep_failed: bool
    guarantee: bool
    max_failures: int
    cameras: tuple[TwinCameraConfig, ...]
    camera_fps: int
    sources: tuple[str, ...]

    def provenance(self) -> dict[str, Any]:
        """What the output file records as env_args["mimicgen"]; a resumed run must match it (except num_demos)."""
        return {
            "seed": self.seed, "keep_failed": self.keep_failed, "guarantee": self.guarantee,
            "cameras": [camera.name for camera in self.cameras],
            "image_size": [self.cameras[0].height, self.cameras[0].width] if self.cameras else None,
            "camera_fps": self.camera_fps, "sources": list(self.sources),
        }


def plan(config: GenerationConfig, seeds: SeedDemos) -> GenerationPlan:
    datagen = seeds.task.datagen
    names = seeds.cameras if config.cameras is None else config.cameras
    height, width = config.image_size or seeds.image_size or (240, 320)
    try:
        cameras = tuple(TwinCameraConfig(name, width, height) for name in names)
    except ValueError as exc:
        raise MimicGenError(f"cameras: {exc}") from None
    return GenerationPlan(
        num_demos=config.num_demos or datagen.generation_num_trials,
        seed=datagen.seed if config.seed is None else config.seed,
        keep_failed=datagen.generation_keep_failed if config.keep_failed is None else config.keep_failed,
        guarantee=datagen.generation_guarantee,
        max_failures=datagen.max_num_failures if config.max_failures is None else config.max_failures,
        cameras=cameras,
        camera_fps=min(config.camera_fps or seeds.camera_fps, seeds.fps),
        sources=tuple(demo.name for demo in seeds.demos),
    )
