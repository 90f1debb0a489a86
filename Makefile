# Every target builds the virtual environments it needs (pinned in tools/requirements/, cached
# outside the checkout under ~/.cache/conjure) on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV := tools/venv.sh
REQ := tools/requirements
# The oldest Blender Conjure supports and the newest published as a module for Python 3.11.
BPY_VERSIONS := 4.2 5.0

.PHONY: test lint typecheck test-unit test-blender test-app demo build validate bench clean

## The README's test command: everything CI runs.
test: lint typecheck test-unit test-blender test-app

## ruff (with PLC0415: no imports inside functions) and the import contracts of the layers.
lint:
	py=$$($(VENV) $(REQ)/dev.txt); "$$(dirname "$$py")/ruff" check . && \
	  tools/as_package.sh "$$(dirname "$$py")/lint-imports" --config "$$PWD/pyproject.toml" --no-cache

## mypy over the whole extension, the Blender layer against fake-bpy-module's stubs.
typecheck:
	tools/as_package.sh "$$($(VENV) $(REQ)/dev.txt)" -m mypy --config-file "$$PWD/pyproject.toml" \
	  --cache-dir "$$PWD/build/.mypy_cache" -p conjure

test-unit:
	"$$($(VENV) $(REQ)/dev.txt)" -m pytest tests/unit

test-blender:
	for v in $(BPY_VERSIONS); do \
	  echo "== Blender tier, bpy $$v"; \
	  "$$($(VENV) $(REQ)/bpy-$$v.txt)" -m pytest tests/blender; \
	done

## The real Blender application: BLENDER=/path/to/blender, else Debian chroots with Blender 4.3
## and 5.2 built once under ~/.cache/conjure/chroots or $CONJURE_CHROOTS (Linux, root; apt-get
## installs debootstrap on the host when missing); skips without either, unless
## CONJURE_REQUIRE_APP=1. Screenshots go to build/screenshots/.
test-app:
	"$$($(VENV) $(REQ)/dev.txt)" -m pytest tests/app

## The main job: a generation through the extension against the local sandbox.
demo:
	"$$($(VENV) $(REQ)/bpy-5.0.txt)" tools/demo.py

build validate:
	"$$($(VENV) $(REQ)/bpy-5.0.txt)" tools/ext.py $@

## Speed and memory figures (printed, not asserted).
bench:
	dev=$$($(VENV) $(REQ)/dev.txt); bpy=$$($(VENV) $(REQ)/bpy-5.0.txt); \
	"$$dev" benchmarks/download_memory.py; \
	"$$bpy" benchmarks/pump.py; \
	"$$bpy" benchmarks/vox_import.py; \
	"$$bpy" benchmarks/batch.py; \
	"$$bpy" benchmarks/latency.py

clean:
	rm -rf build
