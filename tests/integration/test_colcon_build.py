"""`colcon build` of ros2_ws works as on a robot PC, and puts executables where `ros2 run` looks."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests_support.repo import PACKAGES, REPO

COLCON = Path(sys.executable).with_name("colcon")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_colcon_build_installs_every_package(tmp_path):
    if not COLCON.exists():
        pytest.fail(f"colcon is not installed next to {sys.executable}; `make` installs it from requirements-dev.txt")
    result = subprocess.run(
        [str(COLCON), "--log-base", str(tmp_path / "log"), "build",
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
    shutil.rmtree(tmp_path / "build")
