#!/usr/bin/env bash
# The import contracts of pyproject.toml ([tool.importlinter]) over the checkout, imported under
# its real package name: the checkout is linked as ``conjure`` in a scratch folder.
#   tools/importlint.sh /path/to/dev-venv/bin/python
set -euo pipefail
python=$1
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
ln -s "$root" "$scratch/conjure"
cd "$scratch"
PYTHONPATH="$scratch" "$(dirname "$python")/lint-imports" --config "$root/pyproject.toml" --no-cache
