"""The application tier's moving parts: a Blender user folder per test, Xvfb, GUI runs with a
hard timeout, and the screenshot checks. Fixtures in ``conftest.py`` put them together."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tools.app.targets import ROOT, Target

EXTENSION = "bl_ext.user_default.conjure"
GUI_SCRIPT = ROOT / "tests" / "app" / "in_blender" / "gui.py"
SCREENSHOTS = ROOT / "build" / "screenshots"
#: Tall enough for the Candidates panel's three large previews and their options in one view.
SCREEN = (1600, 1100)
#: Hard limit on one GUI run: a script that dies inside a timer leaves Blender running forever.
GUI_TIMEOUT_S = 150
#: A sidebar drawn by Blender has text, icons and shading; a blank or black grab has one or two.
MIN_SIDEBAR_COLOURS = 8

#: Lines and screenshot files for the end-of-run summary (conftest's terminal summary).
TIMINGS: list[str] = []
PUBLISHED: list[Path] = []


def record_timing(line: str) -> None:
    TIMINGS.append(line)


class Display:
    """An Xvfb server in the target; ``stop()`` always leaves nothing behind."""

    def __init__(self, target: Target, log: Path) -> None:
        self.target = target
        self.log = log
        self._log_file = log.open("wb")
        # -displayfd: Xvfb picks a free display itself and reports it, so runs never collide.
        self.proc = target.popen(["Xvfb", "-displayfd", "1", "-screen", "0",
                                  f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
                                 stdout=subprocess.PIPE, stderr=self._log_file)
        self.number = self._read_display(timeout=30)
        self.name = f":{self.number}"

    def _read_display(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.isdigit():
            self.stop()
            raise RuntimeError(f"Xvfb did not start: {self.log.read_text(errors='replace')}")
        return line

    def stop(self) -> None:
        if self.proc.poll() is None:
            # In a chroot this kills the whole namespace, Xvfb included; on the host, Xvfb.
            self.proc.kill()
        self.proc.wait(timeout=30)
        self._log_file.close()
        if self.target.chroot is not None and getattr(self, "number", None):
            # A killed Xvfb cannot remove its lock and socket; a later one would step past them.
            for stale in (f"tmp/.X{self.number}-lock", f"tmp/.X11-unix/X{self.number}"):
                (self.target.chroot / stale).unlink(missing_ok=True)


@dataclass
class GuiRun:
    returncode: int | None
    log: str
    record: dict
    seconds: float

    def explain(self) -> str:
        tail = "\n".join(self.log.strip().splitlines()[-40:])
        return (f"Blender exited {self.returncode} after {self.seconds:.1f} s; "
                f"script error: {self.record.get('error')}\n--- log tail ---\n{tail}")


class UserFolder:
    """A Blender user (``BLENDER_USER_RESOURCES``, HOME and temp folder) for one test, so
    preferences, the job journal and downloaded results never leak between tests or runs."""

    def __init__(self, target: Target, base: Path, template: Path | None = None) -> None:
        self.target = target
        self.base = base
        self.user = base / "user"
        if template is not None:
            shutil.copytree(template, self.user, symlinks=True)
        for sub in ("user", "home", "tmp", "shots"):
            (base / sub).mkdir(parents=True, exist_ok=True)

    def env(self, **extra: str) -> dict[str, str]:
        return {"BLENDER_USER_RESOURCES": self.target.path(self.user),
                "HOME": self.target.path(self.base / "home"),
                "TMPDIR": self.target.path(self.base / "tmp"), **extra}

    def blender(self, args: list[str], *, timeout: float = 120,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return self.target.run([self.target.blender, *args], self.env(**(env or {})),
                               timeout=timeout)

    # -- GUI ---------------------------------------------------------------------------------
    def _gui_config(self, name: str, config: dict) -> tuple[Path, dict[str, str]]:
        result = self.base / f"{name}.json"
        result.unlink(missing_ok=True)
        cfg = {**config, "result": self.target.path(result),
               "shots": self.target.path(self.base / "shots")}
        cfg_path = self.base / f"{name}.config.json"
        cfg_path.write_text(json.dumps(cfg, indent=1))
        return result, {"CONJURE_APP_CONFIG": self.target.path(cfg_path)}

    def blend(self, name: str) -> str:
        """A .blend file of this user's, as Blender in the target sees its path."""
        return self.target.path(self.base / f"{name}.blend")

    def _gui_argv(self, open_file: str | None) -> list[str]:
        # No --factory-startup: the installed extension loads from the user's preferences, as
        # it does for a user. The window fills the X screen, so screenshot coordinates match.
        return [self.target.blender, *([open_file] if open_file else []), "--window-geometry",
                "0", "0", str(SCREEN[0]), str(SCREEN[1]), "--python",
                self.target.path(GUI_SCRIPT)]

    def gui_start(self, display: Display, name: str, config: dict, *,
                  pid_namespace: bool = True,
                  open_file: str | None = None) -> tuple[subprocess.Popen, Path, Path]:
        """Start the GUI on ``display`` (with ``open_file`` open); returns the process, its
        record and its log."""
        result, env = self._gui_config(name, config)
        log = self.base / f"{name}.log"
        env.update(DISPLAY=display.name, LIBGL_ALWAYS_SOFTWARE="1")
        with log.open("wb") as out:
            proc = self.target.popen(self._gui_argv(open_file), self.env(**env), stdout=out,
                                     stderr=subprocess.STDOUT, pid_namespace=pid_namespace)
        return proc, result, log

    def gui(self, display: Display, name: str, config: dict, *,
            timeout: float = GUI_TIMEOUT_S, pid_namespace: bool = True,
            open_file: str | None = None) -> GuiRun:
        """Run one scenario to its end; Blender is killed if it outlives ``timeout``."""
        start = time.monotonic()
        proc, result, log = self.gui_start(display, name, config, pid_namespace=pid_namespace,
                                           open_file=open_file)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        finally:
            stop(proc)
        return collect(proc, result, log, start)


def stop(proc: subprocess.Popen) -> None:
    """SIGKILL to the runner; in a chroot it takes Blender with it (see Target.argv)."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


def collect(proc: subprocess.Popen, result: Path, log: Path, start: float) -> GuiRun:
    record = json.loads(result.read_text()) if result.exists() else {}
    return GuiRun(proc.returncode, log.read_text(errors="replace"), record,
                  time.monotonic() - start)


def wait_for_file(path: Path, proc: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists():
            return True
        time.sleep(0.1)
    return path.exists()


def submissions(sandbox, key: str) -> list[dict]:
    """The sandbox's own list of Thrixel submissions made with ``key`` (its public API)."""
    request = urllib.request.Request(
        sandbox.service_url("thrixel") + "/api/v1/submissions?limit=100",
        headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["submissions"]


# -- screenshots -------------------------------------------------------------------------------

def distinct_colours(target: Target, png: Path, box: list[int] | None = None) -> int:
    """Number of distinct colours in ``png`` (or in ``box`` = x, y, width, height of it),
    counted by ImageMagick next to the X server that was grabbed."""
    args = [str(target.path(png))]
    if box is not None:
        x, y, w, h = box
        args += ["-crop", f"{w}x{h}+{x}+{y}", "+repage"]
    tool = ["magick"] if target.which("magick") else ["convert"]
    proc = target.run([*tool, *args, "-format", "%k", "info:"], timeout=60)
    if proc.returncode != 0 or not proc.stdout.strip().isdigit():
        raise RuntimeError(f"counting colours in {png} failed: {proc.stdout.strip()}")
    return int(proc.stdout.strip())


def colour_counts(target: Target, png: Path, box: list[int]) -> dict[tuple[int, int, int], int]:
    """Pixels per colour (8-bit RGB) in ``box`` of ``png``, from ImageMagick's histogram."""
    x, y, w, h = box
    tool = ["magick"] if target.which("magick") else ["convert"]
    proc = target.run([*tool, str(target.path(png)), "-crop", f"{w}x{h}+{x}+{y}", "+repage",
                       "-alpha", "off", "-depth", "8", "-format", "%c", "histogram:info:-"],
                      timeout=60)
    counts: dict[tuple[int, int, int], int] = {}
    # Lines read "   1234: (71,114,180) #4772B4 srgb(71,114,180)" (IM6 and IM7 alike).
    for line in proc.stdout.splitlines():
        m = re.match(r"\s*(\d+):\s*\(\s*([\d.]+),\s*([\d.]+),\s*([\d.]+)", line)
        if m:
            rgb = tuple(round(float(v)) for v in m.group(2, 3, 4))
            counts[rgb] = counts.get(rgb, 0) + int(m.group(1))  # type: ignore[index]
    if proc.returncode != 0 or not counts:
        raise RuntimeError(f"no histogram of {png}: {proc.stdout[-500:]}")
    return counts


def pixels_near(counts: dict[tuple[int, int, int], int], rgb: tuple[int, int, int],
                tolerance: int = 0) -> int:
    """How many of the counted pixels are within ``tolerance`` of ``rgb`` in every channel."""
    return sum(n for c, n in counts.items()
               if all(abs(a - b) <= tolerance for a, b in zip(c, rgb, strict=True)))


def publish(target: Target, shots: list[dict], scratch_shots: Path) -> list[Path]:
    """Copy a run's screenshots to build/screenshots/<target>/, where people look for them."""
    out = SCREENSHOTS / target.name
    out.mkdir(parents=True, exist_ok=True)
    published = []
    for shot in shots:
        src = scratch_shots / Path(shot["path"]).name
        if src.exists():
            dest = out / src.name
            shutil.copyfile(src, dest)
            published.append(dest)
    PUBLISHED.extend(p for p in published if p not in PUBLISHED)
    return published


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "no")
