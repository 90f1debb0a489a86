"""Money against the sandbox in real bpy: the estimate and the balance it leaves are on the
panel before anything is sent; after a mixed run of all four services, what the journal
records equals each sandbox balance's change; the interactive path asks above the threshold,
and ``-b`` never does."""

import hashlib
import time
import types
from types import SimpleNamespace

import bpy
import pytest


def wait_for(condition, timeout=10.0):
    """Until ``condition()`` holds: answers fetched on worker threads arrive on their own."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "no answer in time"
        time.sleep(0.02)


def answered(session):
    return not (session.balances.pending() or session.price_lists.pending())


def own_key(conjure, sandbox, request, service, **options):
    """A key of this test's own for ``service`` (its balance moves only with this test)."""
    prefs = bpy.context.preferences.addons[conjure.__package__].preferences
    digest = hashlib.sha256(f"{request.node.name}-{service}".encode()).hexdigest()[:16]
    key = f"cost-{service}-{digest}"
    sandbox.add_key({"pixal3d": "pixazo"}.get(service, service), key, **options)
    name = {"pixal3d": "pixazo"}.get(service, service)
    setattr(prefs, f"{name}_url", sandbox.service_url(name))
    setattr(prefs, f"{name}_key", key)
    return key


@pytest.fixture
def prefs(conjure):
    prefs = bpy.context.preferences.addons[conjure.__package__].preferences
    saved = (prefs.ask_before_spending, prefs.tripo_ask_above, prefs.voxelai_ask_above)
    yield prefs
    prefs.ask_before_spending, prefs.tripo_ask_above, prefs.voxelai_ask_above = saved


def test_estimate_and_balance_left_are_shown_before_sending(session, tripo, thrixel, mod,
                                                            form_reset, paint):
    generate = mod("panels.generate")
    form_reset.service, form_reset.mode_tripo, form_reset.prompt = "tripo", "text_to_model", "x"
    op = mod("providers.registry").operation("tripo", "text_to_model")
    mod("blender.forms").group(bpy.context, op).quad = True
    paint(generate.CONJURE_PT_generate)
    wait_for(lambda: answered(session))
    text = paint(generate.CONJURE_PT_generate).text()
    assert "About 25 credits; leaves 2975 credits" in text
    assert "Figure of 2026-08-12: Tripo3D's typical prices" in text

    # Thrixel meters a create by usage: its own live list gives the figure.
    form_reset.service, form_reset.mode_thrixel = "thrixel", "create"
    paint(generate.CONJURE_PT_generate)
    wait_for(lambda: answered(session))
    text = paint(generate.CONJURE_PT_generate).text()
    assert "About 4 Cubes; leaves" in text and "price list, read just now" in text


def test_a_short_balance_is_said_before_sending(session, conjure, sandbox, request, tripo,
                                                form_reset, paint, mod):
    own_key(conjure, sandbox, request, "tripo", balance=15)
    form_reset.service, form_reset.mode_tripo, form_reset.prompt = "tripo", "text_to_model", "x"
    generate = mod("panels.generate")
    paint(generate.CONJURE_PT_generate)
    wait_for(lambda: answered(session))
    layout = paint(generate.CONJURE_PT_generate)
    assert "About 20 credits, but the balance is 15 credits: 5 credits short" in layout.text()
    assert any(e[0] == "label" and e[2] == "ERROR" and e[1].startswith("About 20 credits")
               for e in layout.log)


def jobs_since(session, start):
    return [j for j in session.get().journal.jobs() if j.created_at >= start]


def test_the_ledger_equals_each_sandboxs_balance_change_after_a_mixed_run(
        session, conjure, sandbox, request, thrixel, tripo, pixazo, voxelai, fresh_scene, mod,
        capsys):
    keys = {service: own_key(conjure, sandbox, request, service)
            for service in ("thrixel", "tripo", "pixal3d", "voxelai")}
    accounts = {"thrixel": "thrixel", "tripo": "tripo", "pixal3d": "pixazo",
                "voxelai": "voxelai"}
    before = {s: sandbox.account(accounts[s], keys[s]).balance for s in keys}
    start = time.time() - 1
    generate = bpy.ops.conjure.generate
    assert generate(provider="THRIXEL", prompt="a brass lantern") == {"FINISHED"}
    lantern = session.get().journal.jobs(limit=1)[0]
    assert bpy.ops.conjure.detail(job_id=lantern.id, prompt="weathered bronze") == {"FINISHED"}
    assert generate(provider="TRIPO", prompt="a crate", options='{"quad": true}') == \
        {"FINISHED"}
    assert generate(provider="PIXAL3D", image_url="https://example.com/chair.png",
                    options='{"texture_size": 1024}') == {"FINISHED"}
    assert generate(provider="VOXELAI", prompt="a red barn", candidate_index=0) == {"FINISHED"}
    candidates = next(j for j in session.get().journal.jobs(limit=5)
                      if j.operation == "candidates")
    picture = session.result_paths(candidates)[1]
    # Failures the services refund.
    sandbox.set_faults("tripo", keys["tripo"], "fail=1001")
    sandbox.set_faults("voxelai", keys["voxelai"], "fail=worker crashed")
    try:
        with pytest.raises(RuntimeError):
            generate(provider="TRIPO", prompt="a vase")
        with pytest.raises(RuntimeError):
            generate(provider="VOXELAI", mode="voxelize", image_path=str(picture))
    finally:
        sandbox.set_faults("tripo", keys["tripo"], None)
        sandbox.set_faults("voxelai", keys["voxelai"], None)

    jobs = jobs_since(session, start)
    for service in keys:
        spent = before[service] - sandbox.account(accounts[service], keys[service]).balance
        recorded = sum(j.charged or 0 for j in jobs if j.service == service)
        assert recorded == pytest.approx(spent), service
        assert spent > 0, service
    refunded = [j for j in jobs if j.refunded]
    assert {(j.service, j.state) for j in refunded} == {("tripo", "failed"),
                                                        ("voxelai", "failed")}
    assert all(j.charged == 0 for j in refunded)

    cli = mod("blender.command_line")
    assert cli.main(["jobs", "--cost"]) == 0
    out = capsys.readouterr().out
    today = time.strftime("%Y-%m-%d")
    assert today in out and "Tripo3D" in out and "credits" in out and "$" in out
    # Pictures stay ready to pick from; later tests' file loads would offer them again.
    session.remove(candidates.id)


class Confirm:
    """The window manager's ``invoke_confirm`` as a window would show it: records the question
    and answers as Blender does while the dialog is open."""

    def __init__(self):
        self.asked = []

    def invoke_confirm(self, op, event, **texts):
        self.asked.append(texts)
        return {"RUNNING_MODAL"}


def operator_in_a_window(cls, conjure, **props):
    """An operator as ``invoke`` sees it in a window: the class's own methods over plain
    properties, its ``execute`` recorded instead of run."""
    op = SimpleNamespace(**{"background_job": False, "from_panel": False, "options": "",
                            **props})
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith(conjure.__name__):
            for name, value in vars(klass).items():
                if isinstance(value, types.FunctionType) and name not in props:
                    setattr(op, name, types.MethodType(value, op))
    op.executed = []
    op.execute = lambda context: op.executed.append(op.background_job) or {"FINISHED"}
    op.run = op.execute
    op.reports = []
    op.report = lambda kinds, text: op.reports.append(text)
    return op


@pytest.fixture
def window(monkeypatch, mod):
    """A context with a window (its confirm recorded); the operators' test for one says yes."""
    monkeypatch.setattr(mod("operators.base"), "interactive", lambda context: True)
    confirm = Confirm()
    return SimpleNamespace(window=object(), window_manager=confirm, scene=bpy.context.scene,
                           active_object=None, selected_objects=[]), confirm


def test_the_interactive_path_asks_above_the_threshold_and_only_there(session, conjure, tripo,
                                                                      prefs, mod, window):
    context, confirm = window
    generate = mod("operators.generate").CONJURE_OT_generate
    crate = {"provider": "TRIPO", "prompt": "a crate", "mode": "", "negative_prompt": "",
             "image_path": "", "image_url": "", "candidate_index": -1,
             "options": '{"quad": true}'}
    count = len(session.get().journal.jobs())

    prefs.tripo_ask_above = 20.0
    op = operator_in_a_window(generate, conjure, **crate)
    assert generate.invoke(op, context, None) == {"RUNNING_MODAL"}
    [asked] = confirm.asked
    assert asked["title"].startswith("About 25 credits")
    assert "above the 20 credits" in asked["message"] and asked["confirm_text"] == "Send"
    assert op.executed == [] and len(session.get().journal.jobs()) == count  # nothing sent

    prefs.tripo_ask_above = 30.0
    op = operator_in_a_window(generate, conjure, **crate)
    assert generate.invoke(op, context, None) == {"FINISHED"}
    assert op.executed == [True] and len(confirm.asked) == 1  # sent at once, no question

    prefs.tripo_ask_above, prefs.ask_before_spending = 0.0, False
    op = operator_in_a_window(generate, conjure, **crate)
    assert generate.invoke(op, context, None) == {"FINISHED"} and len(confirm.asked) == 1


def test_a_follow_up_asks_too(session, conjure, tripo, prefs, mod, window, fresh_scene):
    assert bpy.ops.conjure.generate(provider="TRIPO", prompt="a stool") == {"FINISHED"}
    source = session.get().journal.jobs(limit=1)[0]
    context, confirm = window
    follow_up = mod("operators.follow_up").CONJURE_OT_follow_up
    prefs.tripo_ask_above = 15.0
    op = operator_in_a_window(follow_up, conjure, job_id=source.id, operation="texture_model",
                              prompt="", parts="", options='{"texture_quality": "detailed"}')
    assert follow_up.invoke(op, context, None) == {"RUNNING_MODAL"}
    assert confirm.asked[0]["title"].startswith("About 20 credits") and op.executed == []


def test_picking_a_candidate_asks_too(session, conjure, voxelai, prefs, mod, window):
    candidates = session.submit("voxelai", "candidates", {"prompt": "a red barn"})
    [done] = session.run_blocking([candidates.id], echo=lambda line: None)
    assert done.state == "ready"
    context, confirm = window
    pick = mod("operators.jobs").CONJURE_OT_pick_candidate
    prefs.voxelai_ask_above = 0.0
    op = operator_in_a_window(pick, conjure, job_id=done.id, index=0)
    assert pick.invoke(op, context, None) == {"RUNNING_MODAL"}
    assert confirm.asked[0]["title"] == "About 1 token" and op.executed == []
    prefs.voxelai_ask_above = 1.0
    op = operator_in_a_window(pick, conjure, job_id=done.id, index=0)
    assert pick.invoke(op, context, None) == {"FINISHED"} and op.executed == [True]
    session.remove(done.id)  # a ready job left behind would be offered to later tests' files


def test_blocking_and_background_calls_never_ask(session, tripo, prefs, fresh_scene):
    prefs.tripo_ask_above = 0.0  # every paid job is above it
    # bpy without a window (as blender -b) runs execute even for INVOKE_DEFAULT.
    assert bpy.ops.conjure.generate("INVOKE_DEFAULT", provider="TRIPO", prompt="a crate",
                                    options='{"quad": true}') == {"FINISHED"}
    assert bpy.ops.conjure.generate(provider="TRIPO", prompt="a lamp") == {"FINISHED"}
    job = session.get().journal.jobs(limit=1)[0]
    assert (job.state, job.charged, job.charge_unit) == ("imported", 20, "credits")


def test_what_a_job_cost_is_in_its_details_and_the_preferences_sum_it(session, tripo, prefs,
                                                                       mod, paint, fresh_scene):
    assert bpy.ops.conjure.generate(provider="TRIPO", prompt="a chair",
                                    options='{"smart_low_poly": true}') == {"FINISHED"}
    job = session.get().journal.jobs(limit=1)[0]
    item = next(i for i in bpy.context.window_manager.conjure.jobs if i.job_id == job.id)
    for _ in range(100):  # the list reads the jobs' news within a time budget per tick
        if item.cost:
            break
        session.tick()
    assert item.cost == "Charged 30 credits"
    details = paint(SimpleNamespace(draw=lambda self, context: mod("panels.jobs").draw_job(
        self.layout, item)))
    assert "Charged 30 credits." in details.text()
    assert any(line.service == "tripo" for line in session.ledger(max_age=0))  # read it now
    layout = paint(type(prefs), target=prefs)
    assert {"ask_before_spending", "tripo_ask_above", "pixazo_ask_above"} <= set(layout.props())
    text = layout.text()
    assert "Spending" in text
    assert time.strftime("%Y-%m-%d") in text and "Tripo3D" in text and "credits" in text

