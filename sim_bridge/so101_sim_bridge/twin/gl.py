"""Choose MuJoCo's OpenGL backend for headless rendering, before mujoco is imported.

mujoco reads MUJOCO_GL once, when it is first imported, and on a machine without a display its
default (GLFW) cannot open a context. So the twin package sets a headless default as its first
action: OSMesa, the software renderer from Debian's libosmesa6, which works on every robot PC and
CI machine. EGL is faster but needs a GPU (/dev/dri); set MUJOCO_GL=egl yourself where one exists.
A value already in the environment is always respected.
"""
from __future__ import annotations

import os

DEFAULT_GL_BACKEND = "osmesa"
HEADLESS_BACKENDS = ("osmesa", "egl")


def configure_headless_gl() -> str:
    """Set MUJOCO_GL (and PyOpenGL's matching platform) unless the caller already chose; return it."""
    backend = os.environ.setdefault("MUJOCO_GL", DEFAULT_GL_BACKEND).strip().lower()
    if backend in HEADLESS_BACKENDS:
        os.environ.setdefault("PYOPENGL_PLATFORM", backend)
    return backend
