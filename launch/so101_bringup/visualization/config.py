"""RerunNodeConfig: the rerun node's parameters, one frozen dataclass field per ROS parameter.

The default ports (interface_contract.RERUN_GRPC_PORT, RERUN_WEB_PORT) sit next to rerun's own
(gRPC 9876, web 9090) rather than on them: those are where `rr.spawn()` (LeRobot's
`--display_data`) and a bare `rerun` viewer listen, so both can run beside this node. Rates
bound what logging costs: joint topics arrive at 100 Hz and camera frames at 30 fps, more than a
plot or a glance at a camera needs, and on a 2-core robot PC the control loops come first.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from so101_calibration.interface_contract import CAMERA_IMAGE, RERUN_GRPC_PORT, RERUN_WEB_PORT

IMAGE_SUFFIX = "/image_raw"


def _param(default, help: str):
    return field(default=default, metadata={"help": help})


def image_entity(topic: str) -> str:
    """The entity path a camera topic is logged under: cameras/wrist/image_raw → cameras/wrist."""
    path = topic.strip("/")
    return path[: -len(IMAGE_SUFFIX)] if path.endswith(IMAGE_SUFFIX) else path


@dataclass(frozen=True)
class RerunNodeConfig:
    grpc_port: int = _param(
        RERUN_GRPC_PORT, "rerun server port on 127.0.0.1: viewers connect to rerun+http://127.0.0.1:<port>/proxy"
    )
    web_port: int = _param(RERUN_WEB_PORT, "web viewer port on 127.0.0.1: open http://127.0.0.1:<port>")
    server_memory_limit: str = _param(
        "1GB", "what the server keeps for viewers that connect later (oldest dropped first), e.g. 1GB or 10%"
    )
    image_topics: tuple[str, ...] = _param(
        tuple(CAMERA_IMAGE.format(name=name) for name in ("wrist", "front")),
        "sensor_msgs/Image topics (rgb8 or bgr8), each logged under its name without /image_raw",
    )
    image_rate_hz: float = _param(5.0, "images logged per camera per second, at most (0: every frame)")
    joint_rate_hz: float = _param(30.0, "joint states and commands logged per topic per second, at most (0: all)")

    def __post_init__(self) -> None:
        for name in ("grpc_port", "web_port"):
            if not 0 < getattr(self, name) < 65536:
                raise ValueError(f"{name} must be 1..65535, got {getattr(self, name)}")
        if self.grpc_port == self.web_port:
            raise ValueError(f"grpc_port and web_port must differ, both are {self.grpc_port}")
        if not self.server_memory_limit.strip():
            raise ValueError("server_memory_limit must be a size such as 1GB or a share such as 10%")
        for name in ("image_rate_hz", "joint_rate_hz"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0 (0: no limit), got {getattr(self, name)}")
        entities = [image_entity(topic) for topic in self.image_topics]
        if not all(entities) or len(set(entities)) != len(entities):
            raise ValueError(f"image_topics must be distinct topics, got {list(self.image_topics)}")
