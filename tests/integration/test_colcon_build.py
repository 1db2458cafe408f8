"""`colcon build` of ros2_ws works as on a robot PC, and puts executables where `ros2 run` looks.

Both forms: the plain build (what a deployment installs) and `--symlink-install` (what the README and
`make colcon` use, and what broke with setuptools 80: `option --editable not recognized`).
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests_support.repo import PACKAGES, REPO

COLCON = Path(sys.executable).with_name("colcon")


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("symlink", [False, True], ids=["install", "symlink-install"])
def test_colcon_build_installs_every_package(tmp_path, symlink):
    if not COLCON.exists():
        pytest.fail(f"colcon is not installed next to {sys.executable}; `make` installs it from requirements-dev.txt")
    result = subprocess.run(
        [str(COLCON), "--log-base", str(tmp_path / "log"), "build", *(["--symlink-install"] if symlink else []),
         "--build-base", str(tmp_path / "build"), "--install-base", str(tmp_path / "install")],
        cwd=REPO / "ros2_ws", capture_output=True, text=True, timeout=280,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    install = tmp_path / "install"
    for package in PACKAGES.values():
        assert (install / package / "share/ament_index/resource_index/packages" / package).exists()
        assert (install / package / "share" / package / "package.xml").exists()
    for script in (
        "so101-bus-emulator", "so101-scan", "so101-setup-motors", "so101-find-port", "so101-udev-rules", "so101-calibrate",
    ):
        assert (install / "so101_hardware/lib/so101_hardware" / script).exists(), script
    assert (install / "so101_bringup/lib/so101_bringup/so101").exists()
    launch_file = install / "so101_bringup/share/so101_bringup/launch/teleop.launch.py"
    assert launch_file.is_symlink() is symlink  # --symlink-install: edits in the checkout take effect at once
    assert launch_file.resolve().read_text() == (REPO / "launch/launch/teleop.launch.py").read_text()
    if symlink:
        assert launch_file.resolve() == (REPO / "launch/launch/teleop.launch.py").resolve()
    shutil.rmtree(tmp_path / "build")


def test_make_colcon_runs_the_tested_symlink_form():
    dry_run = subprocess.run(["make", "-n", "colcon"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "colcon build --symlink-install" in dry_run.stdout, dry_run.stdout + dry_run.stderr
