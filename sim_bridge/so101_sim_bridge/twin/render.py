"""Offscreen rendering of the twin's cameras into RGB uint8 arrays.

One mujoco.Renderer per distinct image size, created on first use: each holds an OpenGL context
and a framebuffer, which are not free with the software renderer. A GL context belongs to the
thread that made it, so call render() from one thread (the twin node renders on a thread of its own).
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import mujoco
import numpy as np

from so101_sim_bridge.twin.config import TwinCameraConfig
from so101_sim_bridge.twin.scene import model_camera_name


class TwinRenderError(RuntimeError):
    """Offscreen rendering is unavailable; the message says how to get a working GL backend."""


class TwinRenderer:
    """Renders the configured cameras of one model."""

    def __init__(self, model: mujoco.MjModel, cameras: Sequence[TwinCameraConfig], shadows: bool = False):
        self._model = model
        self._cameras = {camera.name: camera for camera in cameras}
        self._shadows = shadows
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}

    @property
    def cameras(self) -> tuple[TwinCameraConfig, ...]:
        return tuple(self._cameras.values())

    def render(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        """The camera's current view: H x W x 3 uint8 RGB, a fresh array the caller owns."""
        try:
            config = self._cameras[camera]
        except KeyError:
            raise KeyError(f"camera {camera!r} is not rendered; configured: {', '.join(self._cameras)}") from None
        renderer = self._renderer(config.width, config.height)
        renderer.update_scene(data, camera=model_camera_name(camera))
        renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = self._shadows
        return renderer.render()

    def close(self) -> None:
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()

    def _renderer(self, width: int, height: int) -> mujoco.Renderer:
        key = (width, height)
        if key not in self._renderers:
            try:
                self._renderers[key] = mujoco.Renderer(self._model, height=height, width=width)
            except Exception as exc:  # PyOpenGL raises many unrelated types when a backend is missing
                backend = os.environ.get("MUJOCO_GL", "<unset>")
                raise TwinRenderError(
                    f"cannot render offscreen with MUJOCO_GL={backend}: {type(exc).__name__}: {exc}\n"
                    "What to do:\n"
                    "  - software rendering: apt-get install libosmesa6 and run with MUJOCO_GL=osmesa\n"
                    "  - on a machine with a GPU (/dev/dri present): MUJOCO_GL=egl\n"
                    "  - set MUJOCO_GL before anything imports mujoco"
                ) from None
        return self._renderers[key]
