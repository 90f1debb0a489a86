#!/usr/bin/env bash
# Runs a command with the checkout importable under its real package name, ``conjure``: the
# checkout is linked as ``conjure`` in a scratch folder, which is the working directory and on
# PYTHONPATH. CONJURE_ROOT names the checkout for the command.
#   tools/as_package.sh COMMAND [ARGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
ln -s "$root" "$scratch/conjure"
cd "$scratch"
CONJURE_ROOT=$root PYTHONPATH="$scratch" "$@"
