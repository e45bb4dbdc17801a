"""The whole Definitions load, and nothing silently goes missing."""

import dagster as dg

from leadgen_assets.definitions import defs

LAYERS = ("sources", "signals", "identity", "features", "scoring", "routing", "monitoring", "governance", "models")


def test_definitions_snapshot(snapshot) -> None:
    graph = defs.resolve_asset_graph()
    repo = defs.get_repository_def()
    shape = {
        "assets": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
        "checks": sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys),
        "jobs": sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")),
        "schedules": sorted(s.name for s in repo.schedule_defs),
        "sensors": sorted(s.name for s in repo.sensor_defs),
    }
    assert shape == snapshot


def test_every_asset_is_documented_owned_versioned_and_pooled() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        layer = key.path[0]
        assert layer in LAYERS, key
        assert node.group_name == layer, key
        assert node.description and len(node.description) > 40, key
        assert node.owners == ["team:data"], key
        assert node.code_version, key
        assert "duckdb" in node.kinds, key
        assert node.pools == {"duckdb"}, key  # one DuckDB writer at a time


def test_daily_layers_are_partitioned_and_backfill_in_one_run() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] in ("sources", "signals", "features", "scoring", "routing"):
            assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition), key
            assert node.backfill_policy == dg.BackfillPolicy.single_run(), key


def test_in_process_executor_is_the_default() -> None:
    job = defs.resolve_job_def("lead_funnel")
    assert job.executor_def.name == "in_process"


def test_repo_instance_config_limits_the_duckdb_pool_to_one(tmp_path, monkeypatch) -> None:
    import shutil

    from leadgen_assets import settings

    shutil.copy(settings.repo_root() / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    instance = dg.DagsterInstance.get()
    pools = instance.get_concurrency_config().pool_config
    assert pools.default_pool_limit == 1  # the "duckdb" pool is not configured otherwise
    assert pools.pool_granularity.value == "op"


def test_every_source_has_a_freshness_policy() -> None:
    graph = defs.resolve_asset_graph()
    sources = [k for k in graph.get_all_asset_keys() if k.path[0] == "sources"]
    assert len(sources) == 10
    for key in sources:
        policy = graph.get(key).freshness_policy
        assert policy is not None and policy.fail_window.to_timedelta().total_seconds() == 30 * 3600, key
