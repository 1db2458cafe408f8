"""The twin's cameras in Isaac Sim, as data: LeIsaac's wrist and front cameras by default, or prims that exist.

LeIsaac's SO-101 USD carries no camera: Isaac Lab creates them at run time from LeIsaac's task config
(docs/reference/datasets-mimic.md §1), as USD Camera prims under the robot's `gripper` and `base` links,
placed by an offset in the ROS camera convention (+Z forward, −Y up). USD cameras look along −Z with +Y
up (the "opengl" convention), so the script turns the pose by 180° about the camera's X axis before
writing it, as Isaac Lab does. Lens settings are USD Camera attributes; the vertical aperture follows
from the horizontal one and the image's aspect ratio (square pixels), as Isaac Lab computes it when none
is given. The same prims and attributes exist in Isaac Sim 4.2 to 5.1.

Nothing here imports Isaac Sim: sim_bridge/scripts/isaac_sim_twin.py creates the prims from this data.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from so101_calibration.interface_contract import SIM_CAMERA_IMAGE

Quaternion = tuple[float, float, float, float]
"""(w, x, y, z)."""


@dataclass(frozen=True)
class IsaacCameraConfig:
    """One camera the twin publishes on /sim/cameras/<name>/image_raw.

    With `parent` set, the script creates a Camera prim named `prim` under `<robot prim>/<parent>`
    (a link of the arm), at `position` (m) and `rotation` (wxyz, ROS camera convention) relative to
    it, with these lens settings. With `parent` None, `prim` is the absolute path of a camera prim
    that already exists in the stage (in the asset or a --stage-extra), used as it is.
    """

    name: str
    prim: str
    parent: str | None = None
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rotation: Quaternion = (1.0, 0.0, 0.0, 0.0)
    focal_length: float = 24.0
    """mm (USD's tenths of a scene unit, by convention)."""
    horizontal_aperture: float = 20.955
    focus_distance: float = 400.0
    clipping_range: tuple[float, float] = (0.01, 50.0)
    width: int = 640
    height: int = 480

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            raise ValueError(f"camera name {self.name!r}: a plain name, e.g. wrist")
        if self.parent is None and not self.prim.startswith("/"):
            raise ValueError(f"camera {self.name}: an existing camera needs an absolute prim path, got {self.prim!r}")
        if self.parent is not None and (not self.prim or "/" in self.prim):
            raise ValueError(f"camera {self.name}: a created camera's prim is a plain name, got {self.prim!r}")
        if self.width < 1 or self.height < 1 or self.focal_length <= 0 or self.horizontal_aperture <= 0:
            raise ValueError(f"camera {self.name}: size and lens must be positive")

    @property
    def topic(self) -> str:
        return SIM_CAMERA_IMAGE.format(name=self.name)

    @property
    def created(self) -> bool:
        return self.parent is not None

    def prim_path(self, robot_prim: str) -> str:
        """Where the camera prim is: under the robot's link for a created camera, else as given."""
        return f"{robot_prim}/{self.parent}/{self.prim}" if self.created else self.prim

    @property
    def usd_orientation(self) -> Quaternion:
        """The prim's orientation (wxyz) in USD's camera convention (module doc)."""
        return ros_to_usd_camera(self.rotation)

    @property
    def usd_attributes(self) -> dict[str, object]:
        """The USD Camera attributes to set on a created camera."""
        return {
            "focalLength": self.focal_length,
            "focusDistance": self.focus_distance,
            "horizontalAperture": self.horizontal_aperture,
            "verticalAperture": self.horizontal_aperture * self.height / self.width,
            "clippingRange": self.clipping_range,
        }


def ros_to_usd_camera(rotation: Quaternion) -> Quaternion:
    """A camera rotation in the ROS convention → the same camera in USD's: q ⊗ (0, 1, 0, 0), i.e. turned
    180° about its own X axis (Isaac Lab's convert_camera_frame_orientation_convention, ros → opengl)."""
    w, x, y, z = rotation
    return (-x, w, z, -y)


LEISAAC_CAMERAS: tuple[IsaacCameraConfig, ...] = (
    IsaacCameraConfig(
        "wrist", "wrist_camera", parent="gripper", position=(-0.001, 0.1, -0.04),
        rotation=(-0.404379, -0.912179, -0.0451242, 0.0486914), focal_length=36.5, horizontal_aperture=36.83,
    ),
    IsaacCameraConfig(
        "front", "front_camera", parent="base", position=(0.0, -0.5, 0.6),
        rotation=(0.1650476, -0.9862856, 0.0, 0.0), focal_length=28.7, horizontal_aperture=38.11,
    ),
)
"""LeIsaac's SO-101 cameras (single-arm task config, docs/reference/datasets-mimic.md §1): 640×480 RGB, focus
400, clipping 0.01-50 m."""

_VECTOR_FIELDS = {"position": 3, "rotation": 4, "clipping_range": 2}
_NUMBER_FIELDS = {"focal_length": float, "horizontal_aperture": float, "focus_distance": float, "width": int,
                  "height": int}


def with_override(camera: IsaacCameraConfig, text: str) -> IsaacCameraConfig:
    """`field=value` applied to a camera, e.g. "position=0,0.1,-0.05" or "focal_length=30".

    ValueError names the field."""
    name, equals, value = (part.strip() for part in text.partition("="))
    known = [f.name for f in fields(IsaacCameraConfig) if f.name != "name"]
    if not equals or name not in known:
        raise ValueError(f"camera {camera.name}: {text!r} is not FIELD=VALUE with a field of {', '.join(known)}")
    try:
        if name in _VECTOR_FIELDS:
            parsed: object = tuple(float(part) for part in value.split(","))
            if len(parsed) != _VECTOR_FIELDS[name]:
                raise ValueError(f"{_VECTOR_FIELDS[name]} comma-separated numbers")
        elif name in _NUMBER_FIELDS:
            parsed = _NUMBER_FIELDS[name](value)
        else:
            parsed = value or None if name == "parent" else value
    except ValueError as exc:
        raise ValueError(f"camera {camera.name}: {name}={value!r}: {exc}") from None
    return replace(camera, **{name: parsed})
