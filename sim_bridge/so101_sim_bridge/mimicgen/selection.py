"""Isaac Lab Mimic's source selection strategies (docs/reference/datasets-mimic.md §3, step 3).

At the start of a subtask, which seed demo's segment to follow:

- random: uniformly;
- nearest_neighbor_object: the segments whose reference object, at the segment's first row, was
  posed most like the object is now (pos_weight · ‖Δp‖ + rot_weight · angle), then uniformly among
  the nn_k best;
- nearest_neighbor_robot_distance: each segment's first end-effector pose carried into the
  object's present frame, scored against the present end-effector pose the same way: the
  segment that asks the least travel.

Without a reference object only random applies (as in Isaac Lab). kwargs: pos_weight (1.0),
rot_weight (1.0), nn_k (3), as Isaac Lab's.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from so101_sim_bridge.mimicgen.poses import pose_distance, transform_segment

DEFAULT_KWARGS = {"pos_weight": 1.0, "rot_weight": 1.0, "nn_k": 3}


def select_source(
    strategy: str,
    kwargs: Mapping[str, Any],
    rng: np.random.Generator,
    eef_now: np.ndarray,
    object_now: np.ndarray | None,
    segment_first_eef: Sequence[np.ndarray],
    segment_first_object: Sequence[np.ndarray] | None,
) -> int:
    """The chosen source's index; segment_* hold, per source, its segment's first eef pose and reference object pose."""
    count = len(segment_first_eef)
    if strategy == "random" or object_now is None:
        return int(rng.integers(count))
    settings = {**DEFAULT_KWARGS, **kwargs}
    unknown = set(settings) - set(DEFAULT_KWARGS)
    if unknown:
        raise ValueError(f"selection_strategy_kwargs {sorted(unknown)} unknown; known: {sorted(DEFAULT_KWARGS)}")
    weights = {"pos_weight": settings["pos_weight"], "rot_weight": settings["rot_weight"]}
    objects = np.asarray(segment_first_object)
    if strategy == "nearest_neighbor_object":
        scores = pose_distance(objects, object_now[None], **weights)
    elif strategy == "nearest_neighbor_robot_distance":
        carried = np.stack([transform_segment(object_now, objects[i], segment_first_eef[i][None])[0]
                            for i in range(count)])
        scores = pose_distance(carried, eef_now[None], **weights)
    else:
        raise ValueError(f"selection strategy {strategy!r} unknown")
    nearest = np.argsort(scores, kind="stable")[: max(1, int(settings["nn_k"]))]
    return int(rng.choice(nearest))
