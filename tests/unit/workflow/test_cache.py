from conjure.workflow import cache


def test_clear_plan_deletes_only_cache_and_imported_results(tmp_path):
    for name in ("results/tripo/a/m.glb", "results/tripo/b/m.glb", "cache/inputs/p.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * 10)
    plan = cache.clear_plan(tmp_path, [("tripo", "a")])
    assert plan.size == 20
    assert cache.clear(plan) == 20
    assert not (tmp_path / "results/tripo/a").exists() and not (tmp_path / "cache").exists()
    assert (tmp_path / "results/tripo/b/m.glb").is_file()
