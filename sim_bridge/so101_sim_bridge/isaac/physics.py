"""LeIsaac's SO-101 physics as USD attributes, for an asset loaded without Isaac Lab.

LeIsaac's USD leaves the drives, the solver and the fixed base to Isaac Lab's articulation config
(docs/reference/isaac-sim.md §3, datasets-mimic.md §1.1): implicit actuators with stiffness 17.8 N·m/rad,
damping 0.60 N·m·s/rad, effort and velocity limits 10 (N·m, rad/s) on all six joints; 4 position and 4
velocity solver iterations; self-collisions on; the root link fixed to the world. The standalone script
writes the same values into the stage before the simulation starts. USD angular drives are per degree,
so stiffness and damping are scaled by π/180 and the velocity limit by 180/π (Isaac Lab converts the same
way when it writes drives to USD). The schema attribute names are the same in Isaac Sim 4.2 to 5.1.

Nothing here imports Isaac Sim.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class JointDrive:
    """A position drive in SI units (radians)."""

    stiffness: float = 17.8
    """N·m/rad."""
    damping: float = 0.60
    """N·m·s/rad."""
    max_force: float = 10.0
    """N·m."""
    max_velocity: float = 10.0
    """rad/s."""

    def usd_attributes(self) -> dict[str, object]:
        """The revolute joint prim's attributes (UsdPhysics.DriveAPI "angular", PhysxJointAPI), per degree."""
        per_degree = math.pi / 180.0
        return {
            "drive:angular:physics:type": "force",
            "drive:angular:physics:stiffness": self.stiffness * per_degree,
            "drive:angular:physics:damping": self.damping * per_degree,
            "drive:angular:physics:maxForce": self.max_force,
            "physxJoint:maxJointVelocity": self.max_velocity / per_degree,
        }


@dataclass(frozen=True)
class ArticulationSettings:
    solver_position_iterations: int = 4
    solver_velocity_iterations: int = 4
    self_collisions: bool = True
    fix_root_link: bool = True

    def usd_attributes(self) -> dict[str, object]:
        """The articulation root prim's attributes (PhysxArticulationAPI)."""
        return {
            "physxArticulation:solverPositionIterationCount": self.solver_position_iterations,
            "physxArticulation:solverVelocityIterationCount": self.solver_velocity_iterations,
            "physxArticulation:enabledSelfCollisions": self.self_collisions,
        }


@dataclass(frozen=True)
class TwinPhysics:
    """What the script applies after loading the asset."""

    drive: JointDrive = JointDrive()
    articulation: ArticulationSettings = ArticulationSettings()
    ground_plane: bool = True
    """A ground plane at z = 0 (LeIsaac's scenes have their own floor: pass --no-ground with a --stage-extra)."""


LEISAAC_SO101 = TwinPhysics()
"""LeIsaac's SO-101 follower config (assets/robots/lerobot.py)."""
