#!/usr/bin/env bash
# Prints the python of a virtual environment built from one requirements file, creating it once.
# Environments live outside the checkout, keyed by the file's content, so a pin change builds a
# new one and CI on a warm machine reuses the old.
#   tools/venv.sh tools/requirements/dev.txt
set -euo pipefail
req=$1
python=${CONJURE_PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
"$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
  echo "venv.sh: Python 3.11 is required (the bpy wheels exist only for it); got $("$python" -V)" >&2
  exit 1
}
cache=${CONJURE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/conjure}
key=$(sha256sum "$req" | cut -c1-12)
dir=$cache/venvs/$(basename "$req" .txt)-$key
mkdir -p "$cache/venvs"
exec 9>"$dir.lock"
flock 9
if [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir"
  "$python" -m venv "$dir" >&2
  # pip warns about every configured local index it cannot read; keep the log to real news.
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" 2>&1 \
    | grep -v "is neither a file nor a directory" >&2 || true
  "$dir/bin/python" -m pip check >/dev/null
  touch "$dir/.complete"
fi
echo "$dir/bin/python"
