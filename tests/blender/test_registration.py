import logging
import sqlite3
import threading
import time

import addon_utils
import bpy


def test_loaded_as_real_extension(conjure):
    assert conjure.__name__ == "bl_ext.dev.conjure"
    assert conjure.blender.session.user_dir().is_dir()
    assert bpy.context.preferences.addons[conjure.__package__].preferences is not None


def _our_handlers():
    """Conjure's application handlers, as "<list>: <module>.<function>"."""
    return sorted(f"{kind}: {h.__module__.rsplit('.', 2)[-2]}.{h.__module__.rsplit('.', 1)[-1]}"
                  f".{h.__name__}"
                  for kind in ("load_post", "save_post", "depsgraph_update_post")
                  for h in getattr(bpy.app.handlers, kind)
                  if h.__module__.startswith("bl_ext.dev.conjure"))


def _our_threads(wait_s: float = 5.0):
    """Conjure's threads still alive after ``wait_s``: a worker finishes the step it is in
    (at most a request's round trip; retry waits end at once) and then stops."""
    deadline = time.monotonic() + wait_s
    while True:
        alive = [t for t in threading.enumerate() if t.name.startswith("conjure-")]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def test_enable_disable_enable_leaves_nothing_behind(conjure):
    name = conjure.__name__
    conjure.blender.session.get()  # worker threads running
    addon_utils.disable(name, default_set=True)
    try:
        assert _our_threads() == []
        assert not hasattr(bpy.types, "CONJURE_OT_pump")
        assert not hasattr(bpy.types.WindowManager, "conjure")
        assert _our_handlers() == []
        assert conjure.blender.session.running() is None
    finally:
        # Enabled again even when a check failed, so the tests after this one still run.
        addon_utils.enable(name, default_set=True)
    addon_utils.enable(name, default_set=True)
    assert hasattr(bpy.types, "CONJURE_OT_pump")
    assert _our_handlers() == [
        "depsgraph_update_post: blender.parts._after_depsgraph",
        "load_post: blender.parts._after_load", "load_post: blender.pump._after_load",
        "save_post: blender.pump._after_save"]
    assert hasattr(bpy.context.window_manager, "conjure")


def _prefs(conjure):
    # Fetched anew each time: disabling the extension frees its preferences struct.
    return bpy.context.preferences.addons[conjure.__package__].preferences


def test_disabling_does_not_wait_out_a_retry_back_off(conjure):
    class RetryWaits(logging.Handler):
        """Hears a worker announce that it waits to retry, and keeps it there until
        ``go_on`` is set, so the test reads the journal while nothing moves."""

        def __init__(self) -> None:
            super().__init__(logging.INFO)
            self.announced = threading.Event()
            self.go_on = threading.Event()
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            worker = threading.current_thread().name.startswith("conjure-worker")
            if worker and "retrying in" in record.getMessage():
                self.messages.append(record.getMessage())
                self.announced.set()
                self.go_on.wait(30)

    name = conjure.__name__
    # A Thrixel base URL where nothing listens: the submit's connection is refused and the
    # client waits to retry (it is safe to: nothing was sent).
    bpy.context.preferences.system.use_online_access = True
    _prefs(conjure).thrixel_url = "http://127.0.0.1:9"
    _prefs(conjure).thrixel_key = "sk-thrixel-nowhere"
    journal_path = conjure.blender.session.get().journal.path
    waits = RetryWaits()
    waits.go_on.set()
    logger = logging.getLogger("conjure")
    level = logger.level
    logger.addHandler(waits)
    logger.setLevel(logging.INFO)
    try:
        job = conjure.blender.session.submit("thrixel", "create", {"task": "a lamp"})
        assert waits.announced.wait(30), "the submit never came to wait for a retry"
        start = time.monotonic()
        addon_utils.disable(name, default_set=True)
        try:
            took = time.monotonic() - start
            assert _our_threads(wait_s=2.0) == []
            assert took < 3.0
            # Read before enabling again: what the job was left as, not what a resumed
            # worker is doing with it.
            journal = sqlite3.connect(f"file:{journal_path}?mode=ro", uri=True)
            [left] = journal.execute("SELECT state FROM jobs WHERE id = ?", (job.id,))
            journal.close()
            assert left == ("pending",), "a submit that never connected must stay sendable"
        finally:
            waits.announced.clear()
            waits.go_on.clear()  # from here on, the resumed worker is held in its wait
            addon_utils.enable(name, default_set=True)
        # The fresh preferences must point nowhere again before the session resumes the job, so
        # the resumed submit cannot reach a real service.
        prefs = _prefs(conjure)
        prefs.thrixel_url = "http://127.0.0.1:9"
        prefs.thrixel_key = "sk-thrixel-nowhere"
        running = conjure.blender.session.get()
        try:
            assert waits.announced.wait(30), "the resumed job was not sent again"
            assert "127.0.0.1:9" in waits.messages[-1]
            assert running.journal.require(job.id).state == "pending"
            running.runner.cancel(job.id)
        finally:
            waits.go_on.set()
        done = running.runner.wait(job.id, timeout=10)
        assert done.state == "cancelled" and "before it was sent" in done.message
    finally:
        waits.go_on.set()
        logger.removeHandler(waits)
        logger.setLevel(level)
        prefs = _prefs(conjure)
        prefs.thrixel_key = ""
        prefs.thrixel_url = ""
