"""Provenance: every dataset the stack writes says what made it, from what, on which robot, by whom (pure library).

    manifest = new_manifest(CONVERSION, "so101-dataset to-lerobot", settings, user=load_user_fields(),
                             sources=(source_of(hdf5, out),), task=task_reference(task))
    write_folder_provenance(out, manifest)       # provenance.json + README.md card (LeRobot, GR00T)
    write_hdf5_provenance(path, manifest)        # the file's root dataset `provenance` + <file>.md card
    report = verify_chain(path)                  # so101-dataset provenance PATH
    print("\\n".join(tree_lines(report.root)))

Modules: manifest (the manifest and its sources), hashing (content hashes of files and folders),
user (the fields only a person supplies, from one YAML), environment (software versions, git,
the twin's model and scene), store (where manifests and cards live, sources), card (the
README.md), tree (the chain as a tree), chain (verifying it).
"""
from so101_sim_bridge.provenance.card import render_card
from so101_sim_bridge.provenance.chain import ChainReport, chain_json, verify_chain
from so101_sim_bridge.provenance.environment import (
    SIMULATORS,
    calibration_entry,
    mujoco_twin,
    simulator_entry,
    software,
)
from so101_sim_bridge.provenance.errors import ProvenanceError
from so101_sim_bridge.provenance.hashing import CARD_NAME, MANIFEST_NAME, ContentHash, content_hash
from so101_sim_bridge.provenance.manifest import (
    ANNOTATION,
    CONVERSION,
    GENERATION,
    KINDS,
    MERGE,
    RECORDING,
    SCHEMA,
    Manifest,
    Source,
    new_manifest,
    task_reference,
)
from so101_sim_bridge.provenance.store import (
    HDF5_MANIFEST,
    dataset_format,
    hdf5_card_path,
    read_hdf5_manifest,
    read_manifest,
    source_of,
    write_folder_provenance,
    write_hdf5_provenance,
)
from so101_sim_bridge.provenance.tree import ChainNode, recorded_chain, tree_lines
from so101_sim_bridge.provenance.user import UserFields, load_user_fields

__all__ = [
    "ANNOTATION",
    "CARD_NAME",
    "CONVERSION",
    "GENERATION",
    "HDF5_MANIFEST",
    "KINDS",
    "MANIFEST_NAME",
    "MERGE",
    "RECORDING",
    "SCHEMA",
    "SIMULATORS",
    "ChainNode",
    "ChainReport",
    "ContentHash",
    "Manifest",
    "ProvenanceError",
    "Source",
    "UserFields",
    "calibration_entry",
    "chain_json",
    "content_hash",
    "dataset_format",
    "hdf5_card_path",
    "load_user_fields",
    "mujoco_twin",
    "new_manifest",
    "read_hdf5_manifest",
    "read_manifest",
    "recorded_chain",
    "render_card",
    "simulator_entry",
    "software",
    "source_of",
    "task_reference",
    "tree_lines",
    "verify_chain",
    "write_folder_provenance",
    "write_hdf5_provenance",
]
