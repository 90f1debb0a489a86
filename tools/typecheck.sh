#!/usr/bin/env bash
# mypy over the whole extension (bpy layer against fake-bpy-module's stubs), imported under its
# real package name: the checkout is linked as ``conjure`` in a scratch folder.
#   tools/typecheck.sh /path/to/dev-venv/bin/python
set -euo pipefail
python=$1
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
ln -s "$root" "$scratch/conjure"
cd "$scratch"
"$python" -m mypy --config-file "$root/pyproject.toml" --cache-dir "$scratch/.mypy_cache" -p conjure
