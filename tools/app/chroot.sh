#!/usr/bin/env bash
# Debian chroots with a distribution's Blender, for the application test tier (tests/app).
#
#   tools/app/chroot.sh ensure SUITE    build once (idempotent), print the root folder
#   tools/app/chroot.sh path SUITE      print where SUITE's root folder is (built or not)
#
# SUITE is a Debian suite whose own Blender Conjure supports: trixie (Debian 13, Blender 4.3)
# or sid (Blender 5.2). Roots live outside the checkout under ~/.cache/conjure/chroots (or
# $CONJURE_CACHE/chroots), keyed by this file's code (comments aside), so changing the recipe
# below builds a new root and a warm machine reuses the old one. Needs root, debootstrap (installed with
# apt-get when missing) and a reachable Debian mirror: the one the host's apt sources name, or
# $CONJURE_DEBIAN_MIRROR. Build logs are kept beside the root (<root>.log).
#
# Commands are run inside a root by tests/app/support/target.py (mount namespace + chroot).
set -euo pipefail

# What a Blender user on that distribution would have: Debian's Blender uses the system Python
# and, like the distribution, leaves requests and numpy to separate packages. Xvfb and
# ImageMagick (for grabbing the X screen) serve the GUI runs.
PACKAGES="blender python3-requests python3-numpy xvfb imagemagick libgl1-mesa-dri"
# Blender 5.x's extension system imports cattrs, which sid's package does not depend on.
EXTRA_sid="python3-cattr"

usage() { echo "usage: $0 ensure|path trixie|sid" >&2; exit 2; }
[ $# -eq 2 ] || usage
command=$1 suite=$2
case $suite in trixie|sid) ;; *) usage ;; esac
extra_var=EXTRA_$suite
packages="$PACKAGES ${!extra_var:-}"

cache=${CONJURE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/conjure}/chroots
key=$(grep -v '^[[:space:]]*#' "$0" | sha256sum | cut -c1-12)
root=$cache/$suite-$key

if [ "$command" = path ]; then echo "$root"; exit 0; fi
[ "$command" = ensure ] || usage
[ "$(id -u)" = 0 ] || { echo "chroot.sh: building a chroot needs root" >&2; exit 3; }

mkdir -p "$cache"
exec 9>"$root.lock"
flock 9
if [ -f "$root/.complete" ]; then echo "$root"; exit 0; fi

log=$root.log
: > "$log"
step() { echo "chroot.sh: $suite: $*" >&2; }
fail() { echo "chroot.sh: $suite: $1 failed; last lines of $log:" >&2; tail -25 "$log" >&2; exit 1; }

host_mirror() {
  { awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
    awk '$1 == "deb" {print $2}' /etc/apt/sources.list 2>/dev/null || true
  } | grep -v -e security -e '^$' | grep -i debian | head -n 1 || true
}
mirror=${CONJURE_DEBIAN_MIRROR:-$(host_mirror)}
[ -n "$mirror" ] || { echo "chroot.sh: no Debian mirror in the host's apt sources;" \
                           "set CONJURE_DEBIAN_MIRROR" >&2; exit 3; }

if ! command -v debootstrap >/dev/null; then
  step "installing debootstrap on the host"
  { apt-get update -qq && apt-get install -y -qq debootstrap; } >>"$log" 2>&1 \
    || fail "apt-get install debootstrap"
fi

# A half-built root from an interrupted run is thrown away rather than repaired. Roots of
# earlier recipes for this suite go too: each is about 1.8 GB.
rm -rf "$root"
for old in "$cache/$suite"-*; do
  case $old in *.lock|*.log) continue ;; esac
  [ -d "$old" ] && [ "$old" != "$root" ] && { step "removing the old root $old"; rm -rf "$old" "$old.log"; }
done

started=$SECONDS
step "debootstrap from $mirror"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >>"$log" 2>&1 || fail debootstrap

# Blender lists mounted file systems at start-up and warns without /etc/mtab.
ln -sf ../proc/self/mounts "$root/etc/mtab"
# Mirror snapshots can carry a sid Release file past its Valid-Until date.
echo 'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/99conjure-no-valid-until"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

step "apt-get install $packages"
# /proc is needed by some maintainer scripts; a private mount namespace drops it afterwards.
unshare --mount --propagation private --fork chroot "$root" /usr/bin/env -i \
  PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
  sh -c "mount -t proc proc /proc && apt-get update -qq && \
         apt-get install -y -qq --no-install-recommends $packages && apt-get clean" \
  >>"$log" 2>&1 || fail "apt-get install"

version=$(chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin blender --version 2>>"$log" | head -n 1)
case $version in Blender\ *) ;; *) fail "blender --version" ;; esac
step "$version ready in $((SECONDS - started)) s"
echo "$version" > "$root/.complete"
echo "$root"
