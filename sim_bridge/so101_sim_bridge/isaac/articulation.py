"""Finding the articulation root and the root link of a loaded robot, from a plain description of its prims.

The articulation controller searches the prims below the robot prim, but the joint-state publisher needs
the prim that carries UsdPhysics.ArticulationRootAPI itself, and URDF imports often put it on a child
(e.g. `<robot>/root_joint`). Fixing the base needs the root link: the rigid body no joint of the robot
moves (no joint has it as body1). The script describes the robot's subtree as PrimInfo records and asks
these functions; the errors say what was found, so a different asset is quick to diagnose.

Nothing here imports Isaac Sim.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ARTICULATION_ROOT_API = "PhysicsArticulationRootAPI"
RIGID_BODY_API = "PhysicsRigidBodyAPI"
FIXED_JOINT = "PhysicsFixedJoint"


@dataclass(frozen=True)
class PrimInfo:
    path: str
    type_name: str = ""
    applied_schemas: tuple[str, ...] = ()
    body0: str | None = None
    """For a joint: its first body (None: the world)."""
    body1: str | None = None


class ArticulationError(RuntimeError):
    """The robot prim has no usable articulation; the message lists what was found."""


def articulation_root(prims: Sequence[PrimInfo], robot_prim: str) -> str:
    """The one prim at or below robot_prim with ArticulationRootAPI (the shallowest, if nested)."""
    inside = [p for p in prims if p.path == robot_prim or p.path.startswith(robot_prim + "/")]
    if not inside:
        raise ArticulationError(f"no prim at {robot_prim}: is --robot-prim where the asset was loaded?")
    roots = sorted((p.path for p in inside if ARTICULATION_ROOT_API in p.applied_schemas), key=lambda s: s.count("/"))
    if not roots:
        bodies = [p.path for p in inside if RIGID_BODY_API in p.applied_schemas][:5]
        raise ArticulationError(
            f"no prim at or below {robot_prim} has ArticulationRootAPI (rigid bodies found: {bodies or 'none'}); "
            "load an articulated SO-101 asset (e.g. LeIsaac's so101_follower.usd)"
        )
    return roots[0]


def world_fixed_joint(prims: Sequence[PrimInfo], robot_prim: str) -> str | None:
    """A fixed joint of the robot that ties a body to the world (one side empty), if the asset has one."""
    for prim in prims:
        if prim.path.startswith(robot_prim + "/") and prim.type_name == FIXED_JOINT and (
            prim.body0 is None or prim.body1 is None
        ):
            return prim.path
    return None


def root_link(prims: Sequence[PrimInfo], robot_prim: str) -> str:
    """The robot's rigid body that no joint moves (no joint of the robot names it as body1)."""
    inside = [p for p in prims if p.path.startswith(robot_prim + "/") or p.path == robot_prim]
    moved = {p.body1 for p in inside if p.body1 is not None and p.body0 is not None}
    candidates = [p.path for p in inside if RIGID_BODY_API in p.applied_schemas and p.path not in moved]
    if len(candidates) != 1:
        raise ArticulationError(
            f"expected one root link below {robot_prim} (a rigid body no joint moves), found {candidates or 'none'}"
        )
    return candidates[0]


@dataclass(frozen=True)
class FixedBasePlan:
    """How to fix the robot's base to the world, as Isaac Lab's fix_root_link does.

    enable_joint: an existing world fixed joint to enable (nothing else to do), or None;
    fix_link:     the root link to tie to the world with a new fixed joint, or None;
    move_root_to: where ArticulationRootAPI must move (the root link's parent) when it sits on the fixed
                  link itself: PhysX treats a fixed joint on the root body as part of a floating
                  articulation otherwise; None: leave it.
    articulation_root: the articulation root once the plan is applied (the joint-state publisher's target).
    """

    enable_joint: str | None
    fix_link: str | None
    move_root_to: str | None
    articulation_root: str


def fixed_base_plan(prims: Sequence[PrimInfo], robot_prim: str) -> FixedBasePlan:
    root = articulation_root(prims, robot_prim)
    existing = world_fixed_joint(prims, robot_prim)
    if existing is not None:
        return FixedBasePlan(existing, None, None, root)
    link = root_link(prims, robot_prim)
    if link == root:
        parent = root.rsplit("/", 1)[0] or "/"
        return FixedBasePlan(None, link, parent, parent)
    return FixedBasePlan(None, link, None, root)
