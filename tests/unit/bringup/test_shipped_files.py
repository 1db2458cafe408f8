"""The files so101_bringup ships: emulated calibrations, launch files, and where they are installed and found."""
import subprocess
import sys

import pytest

from so101_bringup.launch_graphs import GRAPHS
from so101_bringup.share import config_path, share_dir, share_dir_candidates
from so101_calibration import JOINT_NAMES, parse_calibration
from so101_hardware.emulator.trajectory import _JOINT_RANGES as SCRIPTED_HAND_RANGES
from tests_support.repo import REPO

PACKAGE_DIR = REPO / "launch"


@pytest.mark.parametrize("role", ["leader", "follower"])
def test_emulated_calibrations_are_lerobot_files_wider_than_the_scripted_hand(role):
    path = config_path("calibration", f"emulated_{role}.json")
    calibration = parse_calibration(path.read_text(), path)
    for name in JOINT_NAMES:
        motor = calibration[name]
        assert (motor.homing_offset, motor.drive_mode) == (0, 0), name
        low, high = SCRIPTED_HAND_RANGES[name]
        assert motor.range_min < low and high < motor.range_max, name


def test_the_source_tree_is_searched_first():
    assert share_dir_candidates()[0] == PACKAGE_DIR
    assert share_dir() == PACKAGE_DIR


def test_each_launch_file_starts_its_own_graph():
    launch_files = sorted(PACKAGE_DIR.glob("launch/*.launch.py"))
    assert [path.name.removesuffix(".launch.py") for path in launch_files] == sorted(GRAPHS)
    for path in launch_files:
        assert f'return launch_description("{path.name.removesuffix(".launch.py")}")' in path.read_text()


@pytest.fixture(scope="module")
def install_prefix(tmp_path_factory):
    """setup.py's data_files installed into a fresh prefix, as colcon and pip install them."""
    prefix = tmp_path_factory.mktemp("prefix")
    subprocess.run(
        [sys.executable, "setup.py", "-q", "install_data", "--install-dir", str(prefix)],
        cwd=PACKAGE_DIR, check=True, capture_output=True, timeout=60,
    )
    return prefix


def test_setup_installs_every_launch_and_config_file(install_prefix):
    share = install_prefix / "share" / "so101_bringup"
    shipped = [p for pattern in ("launch/*.launch.py", "config/*.yaml", "config/calibration/*.json")
               for p in PACKAGE_DIR.glob(pattern)]
    assert len(shipped) == 5 + 9 + 2
    for path in shipped:
        installed = share / path.relative_to(PACKAGE_DIR)
        assert installed.read_bytes() == path.read_bytes(), installed


def test_an_installed_share_folder_is_found_through_the_ament_index(install_prefix, monkeypatch):
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(install_prefix))
    assert share_dir_candidates()[1] == install_prefix / "share" / "so101_bringup"
