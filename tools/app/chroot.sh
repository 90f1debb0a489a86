#!/usr/bin/env bash
# Debian chroots with a distribution's Blender, for the application test tier (tests/app).
#
#   tools/app/chroot.sh host            install what building needs on the host, once
#   tools/app/chroot.sh ensure SUITE    build once (idempotent), print the root folder
#   tools/app/chroot.sh path SUITE      print where SUITE's root folder is (built or not)
#
# SUITE is a Debian suite whose own Blender Conjure supports: trixie (Debian 13, Blender 4.3)
# or sid (Blender 5.2). Roots live outside the checkout under ~/.cache/conjure/chroots (or
# $CONJURE_CACHE/chroots, or $CONJURE_CHROOTS), keyed by the recipe below (comments aside), so
# changing the recipe builds a new root and a warm machine reuses the old one. Needs root, the
# HOST_PACKAGES (installed with apt-get when missing) and a reachable Debian mirror: the one the
# host's apt sources name, or $CONJURE_DEBIAN_MIRROR. Build logs are kept beside the root
# (<root>.log). Progress goes to stderr, one line per step.
#
# Commands are run inside a root by tools/app/targets.py (mount namespace + chroot).
set -euo pipefail

# --- recipe: what a root contains; its key hashes this block ---------------------------------
# What a Blender user on that distribution would have: Debian's Blender uses the system Python
# and, like the distribution, leaves requests and numpy to separate packages. Xvfb and
# ImageMagick (for grabbing the X screen) serve the GUI runs.
PACKAGES="blender python3-requests python3-numpy xvfb imagemagick libgl1-mesa-dri"
# Blender 5.x's extension system imports cattrs, which sid's package does not depend on.
EXTRA_sid="python3-cattr"

build_root() {  # build_root SUITE ROOT MIRROR PACKAGES
  local suite=$1 root=$2 mirror=$3 packages=$4
  step "debootstrap $suite from $mirror (about a minute)"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >>"$log" 2>&1 || fail debootstrap
  # Blender lists mounted file systems at start-up and warns without /etc/mtab.
  ln -sf ../proc/self/mounts "$root/etc/mtab"
  # Mirror snapshots can carry a sid Release file past its Valid-Until date.
  echo 'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/99conjure-no-valid-until"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  step "apt-get install $packages (about a minute)"
  # /proc is needed by some maintainer scripts; a private mount namespace drops it afterwards.
  unshare --mount --propagation private --fork chroot "$root" /usr/bin/env -i \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
    sh -c "mount -t proc proc /proc && apt-get update -qq && \
           apt-get install -y -qq --no-install-recommends $packages && apt-get clean" \
    >>"$log" 2>&1 || fail "apt-get install"
}
# --- end of recipe ---------------------------------------------------------------------------

# Host commands building and entering a root needs, and the Debian packages that provide them.
# unshare, chroot, flock (util-linux) and sha256sum (coreutils) are essential on Debian.
HOST_COMMANDS="debootstrap"
HOST_PACKAGES="debootstrap debian-archive-keyring"
# apt and dpkg serve one caller at a time: concurrent builds (and concurrent test runs with
# different caches) queue here instead of failing on apt's own lock.
HOST_LOCK=/run/lock/conjure-chroot-host.lock

usage() { echo "usage: $0 host | ensure|path trixie|sid" >&2; exit 2; }
step() { echo "chroot.sh: $what: $*" >&2; }
fail() { echo "chroot.sh: $what: $1 failed; last lines of $log:" >&2; tail -25 "$log" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || { echo "chroot.sh: $1 needs root" >&2; exit 3; }; }

missing_host_commands() {
  local c
  for c in $HOST_COMMANDS; do command -v "$c" >/dev/null || echo "$c"; done
}

ensure_host() {
  [ -z "$(missing_host_commands)" ] && return 0
  need_root "installing $HOST_PACKAGES"
  [ -d "$(dirname "$HOST_LOCK")" ] || HOST_LOCK=/tmp/conjure-chroot-host.lock
  exec 8>"$HOST_LOCK"
  flock 8
  # Whoever held the lock may have installed them meanwhile.
  if [ -n "$(missing_host_commands)" ]; then
    step "apt-get install $HOST_PACKAGES on the host"
    # A host apt run that is not ours (unattended upgrades) is waited for, not failed on.
    { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
        $HOST_PACKAGES; } >>"$log" 2>&1 || fail "apt-get install $HOST_PACKAGES"
    [ -z "$(missing_host_commands)" ] || fail "installing $HOST_PACKAGES"
    step "installed $HOST_PACKAGES"
  fi
  exec 8>&-
}

command=${1:-}
case $command in
  host) [ $# -eq 1 ] || usage ;;
  ensure|path) [ $# -eq 2 ] || usage ;;
  *) usage ;;
esac

if [ "$command" = host ]; then
  what=host log=$(mktemp -t conjure-chroot-host.XXXXXX.log)
  ensure_host
  rm -f "$log"
  exit 0
fi

suite=$2
case $suite in trixie|sid) ;; *) usage ;; esac
extra_var=EXTRA_$suite
packages="$PACKAGES${!extra_var:+ ${!extra_var}}"

cache=${CONJURE_CHROOTS:-${CONJURE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/conjure}/chroots}
key=$(sed -n '/^# --- recipe/,/^# --- end of recipe/p' "$0" | grep -v '^[[:space:]]*#' \
      | sha256sum | cut -c1-12)
root=$cache/$suite-$key
what=$suite log=$root.log

if [ "$command" = path ]; then echo "$root"; exit 0; fi
need_root "building a chroot"

mkdir -p "$cache"
exec 9>"$root.lock"
flock 9
if [ -f "$root/.complete" ]; then echo "$root"; exit 0; fi

: > "$log"
ensure_host

host_mirror() {
  { awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
    awk '$1 == "deb" {print $2}' /etc/apt/sources.list 2>/dev/null || true
  } | grep -v -e security -e '^$' | grep -i debian | head -n 1 || true
}
mirror=${CONJURE_DEBIAN_MIRROR:-$(host_mirror)}
[ -n "$mirror" ] || { echo "chroot.sh: no Debian mirror in the host's apt sources;" \
                           "set CONJURE_DEBIAN_MIRROR" >&2; exit 3; }

# A half-built root from an interrupted run is thrown away rather than repaired. Roots of
# earlier recipes for this suite go too: each is about 1.8 GB.
rm -rf "$root"
for old in "$cache/$suite"-*; do
  case $old in *.lock|*.log) continue ;; esac
  [ -d "$old" ] && [ "$old" != "$root" ] && { step "removing the old root $old"; rm -rf "$old" "$old.log"; }
done

started=$SECONDS
step "building $root"
build_root "$suite" "$root" "$mirror" "$packages"
version=$(chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin blender --version 2>>"$log" | head -n 1)
case $version in Blender\ *) ;; *) fail "blender --version" ;; esac
step "$version built in $((SECONDS - started)) s"
echo "$version" > "$root/.complete"
echo "$root"
