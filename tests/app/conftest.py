"""Application tier: the real Blender application, with the extension zip Blender built and
installed itself.

Targets: ``BLENDER=/path/to/blender`` when set; otherwise, on Linux as root, Debian 13 (trixie,
Blender 4.3) and sid (Blender 5.2) chroots built once under ~/.cache/conjure/chroots
(``CONJURE_APP_SUITES=trixie`` picks fewer). Where neither is possible every test skips with
the reason, and with ``CONJURE_REQUIRE_APP=1`` (CI) that skip is a failure instead.

Fixtures, per target: ``target``; ``built_zip`` (``blender --command extension build``);
``installed`` (a user folder where ``extension install-file`` put it); ``user`` (a copy of that
folder for one test); ``display`` (Xvfb); and ``sandbox`` (the service emulator on the host's
loopback, which the chroots share).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from pathlib import Path

import pytest
from app import harness
from app.harness import Display, UserFolder

from tools.app import targets

REQUIRE = harness.env_flag("CONJURE_REQUIRE_APP")


def _plan() -> tuple[list[str], str | None]:
    """Target names known at collection time, or why there are none."""
    if os.environ.get("BLENDER"):
        return ["host"], None
    reason = targets.chroot_available()
    if reason is not None:
        return ["none"], (f"no Blender to test with: set BLENDER=/path/to/blender, or run as "
                          f"root on Linux to build Debian chroots ({reason})")
    chosen = os.environ.get("CONJURE_APP_SUITES", " ".join(targets.SUITES)).split()
    unknown = sorted(set(chosen) - set(targets.SUITES))
    if unknown:
        return ["none"], f"CONJURE_APP_SUITES names unknown suites {unknown}"
    return chosen, None


TARGETS, NO_TARGET = _plan()


def unavailable(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"CONJURE_REQUIRE_APP=1 and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chroot_roots(pytestconfig) -> dict[str, Path | str]:
    if os.environ.get("BLENDER") or NO_TARGET:
        return {}
    start = time.monotonic()
    # A cold build takes minutes: its steps go to the terminal as they happen, past pytest's
    # capture, which would show them only if the first test failed.
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    reporter = pytestconfig.pluginmanager.getplugin("terminalreporter")

    def progress(line: str) -> None:
        if reporter is None:
            print(f"[app] {line}", file=sys.__stderr__, flush=True)
        else:
            reporter.write_line(f"[app] {line}")
            reporter.flush()

    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        roots = targets.ensure_chroots(tuple(TARGETS), progress)
        ready = (f"chroots ready in {time.monotonic() - start:.1f} s: "
                 + ", ".join(f"{k} {v}" for k, v in roots.items()))
        progress(ready)
    harness.record_timing(ready)
    return roots


@pytest.fixture(scope="session", params=TARGETS)
def target(request, chroot_roots, tmp_path_factory) -> targets.Target:
    if NO_TARGET:
        unavailable(NO_TARGET)
    name = request.param
    scratch = tmp_path_factory.mktemp(f"app-{name}")
    try:
        if name == "host":
            return targets.host_target(os.environ["BLENDER"], scratch)
        root = chroot_roots[name]
        if isinstance(root, str):
            unavailable(root)
        return targets.chroot_target(name, Path(root), scratch)
    except targets.Unavailable as exc:
        unavailable(str(exc))
        raise


@pytest.fixture(scope="session")
def built_zip(target) -> Path:
    """The extension zip built by ``blender --command extension build`` from the checkout."""
    out = target.scratch / "dist"
    out.mkdir(exist_ok=True)
    proc = target.run([target.blender, "--command", "extension", "build", "--source-dir",
                       target.checkout, "--output-dir", target.path(out)],
                      {"HOME": target.path(target.scratch)}, timeout=120)
    zips = sorted(out.glob("conjure-*.zip"))
    assert proc.returncode == 0 and len(zips) == 1, (
        f"extension build exited {proc.returncode}, made {zips}:\n{proc.stdout}")
    return zips[0]


@pytest.fixture(scope="session")
def installed(target, built_zip) -> UserFolder:
    """A Blender user folder into which Blender itself installed and enabled the built zip."""
    folder = UserFolder(target, target.scratch / "installed")
    proc = folder.blender(["-b", "--command", "extension", "install-file", "-r",
                           "user_default", "-e", target.path(built_zip)])
    assert proc.returncode == 0, f"install-file exited {proc.returncode}:\n{proc.stdout}"
    installed_init = folder.user / "extensions" / "user_default" / "conjure" / "__init__.py"
    assert installed_init.exists(), f"install-file left no {installed_init}:\n{proc.stdout}"
    return folder


@pytest.fixture
def user(request, target, installed) -> UserFolder:
    """A fresh copy of the installed user folder for one test."""
    name = re.sub(r"[^\w.-]+", "_", request.node.name)[:80]
    return UserFolder(target, target.scratch / "tests" / name, template=installed.user)


@pytest.fixture(scope="session")
def display(target, tmp_path_factory):
    for tool in ("Xvfb", "import"):
        if not target.which(tool):
            unavailable(f"{tool} is not installed next to {target.version}; the GUI runs need "
                        f"Xvfb and ImageMagick")
    xvfb = Display(target, tmp_path_factory.mktemp(f"xvfb-{target.name}") / "xvfb.log")
    yield xvfb
    xvfb.stop()


@pytest.fixture(scope="session")
def sandbox():
    from sandbox import start_sandbox

    with start_sandbox(speed="fast") as running:
        yield running


def pytest_report_header(config):
    if NO_TARGET:
        return [f"app tier: {NO_TARGET}"]
    return [f"app tier targets: {', '.join(TARGETS)}"
            + (" (CONJURE_REQUIRE_APP=1)" if REQUIRE else "")]


def pytest_terminal_summary(terminalreporter):
    tr = terminalreporter
    if harness.TIMINGS:
        tr.section("Blender application tier")
        for line in harness.TIMINGS:
            tr.write_line(line)
    if harness.PUBLISHED:
        tr.section("screenshots")
        for path in harness.PUBLISHED:
            tr.write_line(str(path))
    sys.stdout.flush()
