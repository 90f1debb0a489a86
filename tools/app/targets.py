"""Where the application tier finds a real Blender, and how it runs commands there.

A *target* is one Blender installation: the binary named by ``BLENDER=/path/to/blender``, or the
distribution Blender inside a Debian chroot built by ``tools/app/chroot.sh`` (trixie: 4.3,
sid: 5.2). Commands in a chroot run in a private mount and PID namespace: /proc, /sys and /dev,
the checkout (read-only) and a scratch folder (read-write) are mounted for that command alone and
vanish with it, and killing the command kills every process it started — Blender, Xvfb, and
whatever they spawned. Network is shared with the host, so a sandbox on the host's loopback is
reachable from inside.

    python tools/app/targets.py trixie -- blender --version     # a command in a target
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
CHROOT_SH = Path(__file__).resolve().with_name("chroot.sh")
#: Debian suites with a Blender Conjure supports, oldest first.
SUITES = ("trixie", "sid")
#: Where the checkout and the scratch folder appear inside a chroot.
CHECKOUT_INSIDE = "/mnt/conjure"
SCRATCH_INSIDE = "/mnt/scratch"

#: A chroot build silent this long gets a "still at" line (debootstrap and apt-get each take
#: about a minute without a word).
_HEARTBEAT_S = 20
_PR_SET_PDEATHSIG = 1
_BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "TERM": "dumb",
}


class Unavailable(Exception):
    """No Blender can be run this way here; the message says why."""


def _die_with_parent() -> None:
    # If the test process dies (even by SIGKILL), the kernel kills the command too; in a chroot
    # the command is `unshare --kill-child`, whose death then takes the whole namespace.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Target:
    """One Blender installation and the way to run commands next to it."""

    name: str
    #: Root folder of the chroot, or None for a Blender on the host.
    chroot: Path | None
    blender: str
    scratch: Path
    version: str = ""
    #: Extra environment every command gets (e.g. the shader cache).
    env: dict[str, str] = field(default_factory=dict)

    # -- paths ---------------------------------------------------------------------------------
    @property
    def checkout(self) -> str:
        """The checkout's path as commands in this target see it."""
        return CHECKOUT_INSIDE if self.chroot else str(ROOT)

    def path(self, host_path: Path | str) -> str:
        """The path under the scratch folder or the checkout as commands here see it."""
        p = Path(host_path).resolve()
        if self.chroot is None:
            return str(p)
        for base, inside in ((self.scratch.resolve(), SCRATCH_INSIDE), (ROOT, CHECKOUT_INSIDE)):
            if p == base or base in p.parents:
                return str(Path(inside) / p.relative_to(base))
        raise ValueError(f"{p} is outside the scratch folder and the checkout")

    # -- commands ------------------------------------------------------------------------------
    def argv(self, argv: list[str], env: dict[str, str] | None = None, *,
             pid_namespace: bool = True) -> tuple[list[str], dict]:
        """The host command line and environment that run ``argv`` in this target.

        With ``pid_namespace`` (the default) the command gets its own PID namespace, whose
        processes all die with it. Without, the command keeps a host PID, as a Blender started
        from a desktop has, and still dies with the runner (``--kill-child`` reaches it because
        the shell execs into it), but processes it started may outlive it."""
        full = {**_BASE_ENV, "HOME": self.path(self.scratch / "home"), **self.env, **(env or {})}
        if self.chroot is None:
            return argv, full
        r = shlex.quote(str(self.chroot))
        mounts = [
            f"mount -t proc proc {r}/proc",
            f"mount --rbind /sys {r}/sys",
            f"mount --rbind /dev {r}/dev",
        ]
        for host, inside, ro in ((ROOT, CHECKOUT_INSIDE, True),
                                 (self.scratch, SCRATCH_INSIDE, False)):
            at = shlex.quote(f"{self.chroot}{inside}")
            mounts += [f"mkdir -p {at}", f"mount --bind {shlex.quote(str(host))} {at}"]
            if ro:
                mounts.append(f"mount -o remount,bind,ro {at}")
        # In a PID namespace the shell stays PID 1 (no exec), so the command is an ordinary
        # process there — PID 1 ignores signals it has no handler for — and dies with the shell.
        run = 'chroot "$0" /usr/bin/env -i "$@"'
        script = " && ".join([*mounts, run if pid_namespace else f"exec {run}"])
        namespaces = ["--mount", *(["--pid"] if pid_namespace else [])]
        wrapped = ["unshare", *namespaces, "--fork", "--kill-child=SIGKILL",
                   "--propagation", "private", "--", "sh", "-c", script, str(self.chroot),
                   *(f"{k}={v}" for k, v in full.items()), *argv]
        return wrapped, {**_BASE_ENV}

    def popen(self, argv: list[str], env: dict[str, str] | None = None, *,
              pid_namespace: bool = True, **kwargs: object) -> subprocess.Popen:
        command, environment = self.argv(argv, env, pid_namespace=pid_namespace)
        return subprocess.Popen(command, env=environment, preexec_fn=_die_with_parent,
                                **kwargs)  # type: ignore[call-overload]

    def run(self, argv: list[str], env: dict[str, str] | None = None, *,
            timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess:
        """Run to completion with output captured; on ``timeout`` everything is killed."""
        with self.popen(argv, env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        text=True, errors="replace") as proc:
            try:
                out, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
                raise subprocess.TimeoutExpired(argv, timeout, output=out) from None
        result = subprocess.CompletedProcess(argv, proc.returncode, out, None)
        if check and result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, argv, out)
        return result

    def which(self, program: str) -> bool:
        if self.chroot is None:
            return shutil.which(program) is not None
        # lexists: Debian links many tools through /etc/alternatives, an absolute link that
        # only resolves inside the chroot.
        return any(os.path.lexists(self.chroot / d / program) for d in ("usr/bin", "bin"))


def host_target(blender: str, scratch: Path) -> Target:
    path = shutil.which(blender) or blender
    if not os.access(path, os.X_OK):
        raise Unavailable(f"BLENDER={blender} is not an executable file")
    cache = _cache() / "mesa-shader-cache"
    cache.mkdir(parents=True, exist_ok=True)
    target = Target("host", None, path, scratch, env={"MESA_SHADER_CACHE_DIR": str(cache)})
    target.version = _version(target)
    return target


def chroot_available() -> str | None:
    """None when chroots can be built and run here, else the reason they cannot."""
    if not sys.platform.startswith("linux"):
        return f"Debian chroots need Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "building and entering Debian chroots needs root"
    for tool in ("unshare", "chroot", "sha256sum", "flock"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if shutil.which("debootstrap") is None and shutil.which("apt-get") is None:
        return "neither debootstrap nor apt-get (to install it) is available"
    return None


def ensure_chroots(suites: tuple[str, ...] = SUITES,
                   progress: Callable[[str], None] | None = None) -> dict[str, Path | str]:
    """Build the missing chroots side by side (about two minutes each, mostly download) and
    return each suite's root folder, or the reason it could not be built. What the builds need on
    the host is installed first, once: two builds each installing it would race for apt's lock.
    Every step of the build is passed to ``progress`` (default: stderr) as one line as it
    starts."""
    progress = progress or _to_stderr
    host = _stream({"host": [str(CHROOT_SH), "host"]}, progress)["host"]
    if host.returncode != 0:
        reason = f"installing the chroot builders' host packages failed: {host.explain()}"
        return dict.fromkeys(suites, reason)
    builds = _stream({s: [str(CHROOT_SH), "ensure", s] for s in suites}, progress)
    found: dict[str, Path | str] = {}
    for suite, build in builds.items():
        lines = build.stdout.strip().splitlines()
        if build.returncode == 0 and lines:
            found[suite] = Path(lines[-1])
        else:
            found[suite] = f"building the {suite} chroot failed: {build.explain()}"
    return found


@dataclass
class _Finished:
    returncode: int
    stdout: str
    stderr: list[str]

    def explain(self) -> str:
        return f"exit {self.returncode}: " + " | ".join(self.stderr[-6:])


def _stream(commands: dict[str, list[str]],
            progress: Callable[[str], None]) -> dict[str, _Finished]:
    """Run ``commands`` side by side; pass each stderr line on as it comes, and a "still
    working" line for a command silent for ``_HEARTBEAT_S``, so a log never looks hung."""
    lines: queue.SimpleQueue[tuple[str, str | None]] = queue.SimpleQueue()
    procs = {name: subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, errors="replace")
             for name, argv in commands.items()}
    for name, proc in procs.items():
        threading.Thread(target=_relay, args=(name, proc.stderr, lines), daemon=True).start()
    stderr: dict[str, list[str]] = {name: [] for name in procs}
    started = time.monotonic()
    heard = dict.fromkeys(procs, started)
    running = set(procs)
    while running:
        with contextlib.suppress(queue.Empty):
            name, line = lines.get(timeout=1)
            heard[name] = time.monotonic()
            if line is None:
                running.discard(name)
            else:
                stderr[name].append(line)
                progress(line)
        now = time.monotonic()
        for quiet in sorted(n for n in running if now - heard[n] >= _HEARTBEAT_S):
            heard[quiet] = now
            progress(f"chroot.sh: {quiet}: still working ({now - started:.0f} s)")
    return {name: _Finished(proc.wait(), proc.stdout.read() if proc.stdout else "",
                            stderr[name])
            for name, proc in procs.items()}


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _relay(name: str, stream: IO[str], lines: queue.SimpleQueue) -> None:
    for line in stream:
        lines.put((name, line.rstrip("\n")))
    lines.put((name, None))


def chroot_target(suite: str, root: Path, scratch: Path) -> Target:
    # The shader cache lives in the root, so GUI start-ups after the first are warm (the first
    # frame takes seconds longer on a cold cache under software OpenGL).
    target = Target(suite, root, "blender", scratch,
                    env={"MESA_SHADER_CACHE_DIR": "/var/cache/conjure-mesa"})
    complete = root / ".complete"
    target.version = complete.read_text().strip() if complete.exists() else _version(target)
    return target


def _version(target: Target) -> str:
    proc = target.run([target.blender, "--version"], timeout=60)
    first = proc.stdout.strip().splitlines()[:1]
    if proc.returncode != 0 or not first or not first[0].startswith("Blender"):
        raise Unavailable(f"{target.blender} --version failed: {proc.stdout.strip()[-300:]}")
    return first[0].strip()


def _cache() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "conjure"
    return Path(os.environ.get("CONJURE_CACHE", default))


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: targets.py trixie|sid|host -- COMMAND...", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="conjure-app-"))
    if argv[0] == "host":
        target = host_target(os.environ.get("BLENDER", "blender"), scratch)
    else:
        root = ensure_chroots((argv[0],))[argv[0]]
        if isinstance(root, str):
            print(root, file=sys.stderr)
            return 1
        target = chroot_target(argv[0], root, scratch)
    print(f"{target.name}: {target.version}; scratch {scratch} is {target.path(scratch)}",
          file=sys.stderr)
    command, env = target.argv(argv[2:])
    return subprocess.call(command, env=env, preexec_fn=_die_with_parent)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
