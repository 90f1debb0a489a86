from conjure.workflow import status


def test_durations_and_timing():
    assert [status.duration(s) for s in (5, 65, 3725)] == ["5s", "1m 05s", "1h 02m"]
    assert status.timing("running", 100, 0, 30, now=175) == "1m 15s · ETA 30s"
    assert status.timing("ready", 100, 160, 30, now=9999) == "1m 00s"
    assert status.timing("running", 0, 0, -1) == ""


def test_state_icons_cover_every_state_and_unknown_text():
    assert status.state_icon("failed") == "ERROR"
    assert status.state_icon("nonsense") == "QUESTION"


def test_jobs_of_other_files_say_where_they_were_started():
    here = "/work/castle.blend"
    assert status.started_elsewhere(here, here) is None
    assert status.started_elsewhere("/work/lamp.blend", here) == "Started in lamp.blend"
    assert status.started_elsewhere("unsaved:1a2b", here) == \
        "Started in a file that was never saved"
    assert status.started_elsewhere("", here) == "Started in an earlier session"
