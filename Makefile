# The two commands of the README. Each installs the Debian packages the build needs (with sudo when
# not root) and then builds; neither needs anything else on a fresh Debian 12 machine with Swift.

APT_PACKAGES := pkg-config libopenblas-dev libsdl2-dev libsdl2-image-dev libsdl2-ttf-dev fonts-dejavu-core xvfb xauth python3-venv ffmpeg \
	libopenmpi-dev openmpi-bin
# The Python side of the tests (TensorBoard's reader for the event files), from PyPI into .venv-test.
PYTHON_TEST_PACKAGES := tensorboard==2.21.0 numpy
VENV := .venv-test
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE := --configuration release --scratch-path .build-release

PREFIX ?= /usr/local

.PHONY: run test deps install venv

## run: the main job: a short meta-training run on 2D navigation, then its adaptation report
run: deps
	swift build $(RELEASE) --product metarl
	@run=runs/quickstart-$$(date +%Y%m%d-%H%M%S); \
	.build-release/release/metarl train navigation --iterations 60 --out $$run && \
	.build-release/release/metarl eval $$run --tasks 40 --steps 3

## test: every test with the default traits (under Xvfb, so the viewer's window is tested too),
## a seeded run of the loader fuzzer, 20 kill -9s of a training run each resumed, TensorBoard
## reading back the event files and NumPy the saved episodes, a build with the Distributed trait
## whose runs under `mpirun -np 2` must equal one process's bit for bit, then a headless build and
## test without the default traits
test: deps venv
	swift build --build-tests
	xvfb-run --auto-servernum env METARL_REQUIRE_DISPLAY=1 swift test --skip-build --disable-xctest
	python3 scripts/fuzz-loaders.py --binary .build/debug/metarl --cases 2000 --seed 1
	python3 scripts/kill-and-resume.py --binary .build/debug/metarl --kills 20 --seed 1
	$(VENV)/bin/python scripts/check-tensorboard.py --binary .build/debug/metarl
	$(VENV)/bin/python scripts/check-episode-archive.py --binary .build/debug/metarl
	swift build --traits Distributed --scratch-path .build-mpi --product metarl
	python3 scripts/check-mpi.py --binary .build-mpi/debug/metarl
	swift build --build-tests --disable-default-traits --scratch-path .build-headless
	swift test --skip-build --disable-xctest --disable-default-traits --scratch-path .build-headless

## install: metarl into $(PREFIX)/bin, the presets and settings files into $(PREFIX)/share/metarl
## (where metarl finds its presets from any working directory)
install: deps
	swift build $(RELEASE) --product metarl
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/metarl
	install -m 755 .build-release/release/metarl $(DESTDIR)$(PREFIX)/bin/metarl
	rm -rf $(DESTDIR)$(PREFIX)/share/metarl/envs $(DESTDIR)$(PREFIX)/share/metarl/configs
	cp -R envs configs $(DESTDIR)$(PREFIX)/share/metarl/

## venv: the virtual environment of the Python test helpers
venv: deps
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import tensorboard, numpy" 2>/dev/null || $(VENV)/bin/pip install -q $(PYTHON_TEST_PACKAGES)

## deps: install the missing Debian packages
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
