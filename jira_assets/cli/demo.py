"""`jira-assets demo` and `jira-assets dev`: the bundled simulator as the Jira, this project as the code location."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_CREDENTIALS = {"JIRA_SUBDOMAIN": "demo", "JIRA_EMAIL": "demo@example.com", "JIRA_API_TOKEN": "demo-token"}


def _dagster_home() -> Path:
    """A local Dagster instance in .dagster_home, configured by the repo's dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or REPO_ROOT / ".dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def run_demo(scale: str, seed: str) -> int:
    from jira_sim.process import running_simulator

    print(f"Starting the Jira Cloud simulator ({scale} tenant, seed {seed}) ...", flush=True)
    with running_simulator(["--scale", scale, "--seed", str(seed)]) as (url, _proc):
        env = {**DEMO_CREDENTIALS, "JIRA_BASE_URL": url}
        os.environ.update(env)
        os.environ["DAGSTER_HOME"] = str(_dagster_home())
        print(f"Simulator at {url}. Materializing every default asset at "
              f"{os.environ.get('JIRA_RATE_LIMIT', '5')} requests/s ...", flush=True)
        ok = _materialize_with_progress()
    _print_lake_summary()
    return 0 if ok else 1


def _materialize_with_progress() -> bool:
    from dagster import DagsterInstance, materialize

    from jira_assets.definitions import defs

    instance = DagsterInstance.get()
    assets = list(defs.assets)
    names = [key.path[-1] for a in assets for key in a.keys]
    result_box: dict = {}

    def run() -> None:
        try:
            result_box["result"] = materialize(
                assets, resources=defs.resources, instance=instance, raise_on_error=False,
                tags={"jira_assets/source": "demo"},
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            )
        except Exception as exc:  # shown below; the demo never hides a failure
            result_box["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    reported: set[str] = set()
    while worker.is_alive() or len(reported) < len(names):
        worker.join(timeout=1.0)
        run_id = _latest_run_id(instance)
        if run_id is None:
            continue
        for record in instance.get_records_for_run(run_id).records:
            event = record.event_log_entry.dagster_event
            if event is None or not event.is_step_materialization:
                continue
            mat = event.step_materialization_data.materialization
            name = mat.asset_key.path[-1]
            if name in reported:
                continue
            reported.add(name)
            meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
            print(f"  [{len(reported):2}/{len(names)}] {name:24} {meta.get('rows', '?'):>7} rows  "
                  f"{meta.get('requests', '?'):>5} requests  {time.monotonic() - started:6.1f}s", flush=True)
        if not worker.is_alive():
            break
    if "error" in result_box:
        print(f"The run failed: {result_box['error']}", file=sys.stderr)
        return False
    result = result_box["result"]
    if not result.success:
        from jira_assets.defs.run_report import run_outcome

        for step, message in run_outcome(result)[1].items():
            print(f"  FAILED {step}: {message}", file=sys.stderr)
        return False
    print(f"All {len(names)} assets materialized in {time.monotonic() - started:.1f}s.")
    return True


def _latest_run_id(instance) -> str | None:
    runs = instance.get_runs(limit=1)
    return runs[0].run_id if runs else None


def _print_lake_summary() -> None:
    from jira_assets.lake.catalog import open_catalog

    catalog = open_catalog()
    print("\nTables in the lake (catalog 'jira', namespace 'jira'):")
    for _, name in sorted(catalog.list_tables("jira")):
        snapshot = catalog.load_table(("jira", name)).current_snapshot()
        rows = snapshot.summary.additional_properties.get("total-records", "?") if snapshot else 0
        print(f"  jira.{name:24} {rows:>8} rows")
    lake_dir = os.environ.get("JIRA_ASSETS_LAKE_DIR", ".jira_lake")
    print(f"""
Query it:
  pyiceberg:  from pyiceberg.catalog.sql import SqlCatalog
              cat = SqlCatalog("jira", uri="sqlite:///{lake_dir}/catalog.db", warehouse="file://{os.path.abspath(lake_dir)}/warehouse")
              cat.load_table("jira.issue_search").scan(selected_fields=("key", "status_id")).to_arrow()""")
    _story_points_query(catalog)
    _history_queries(catalog)
    print("Open the UI:  make dev   (then http://127.0.0.1:3000)")


def _story_points_query(catalog) -> None:
    """A query on a typed custom field: story points by status category (DuckDB over the Iceberg table)."""
    try:
        import duckdb
    except ImportError:
        return
    fields = catalog.load_table(("jira", "custom_fields")).scan().to_arrow().to_pylist()
    column = next((f["column_name"] for f in fields if (f["field_name"] or "").lower() in
                   ("story points", "story point estimate") and f["column_type"] == "double"), None)
    if column is None:
        return
    issues = catalog.load_table(("jira", "issue_search")).scan(  # noqa: F841 - DuckDB reads it by name
        selected_fields=("status_category_key", column)).to_arrow()
    query = (f"select status_category_key, count(*) as issues, count({column}) as estimated, "
             f"sum({column}) as points from issues group by 1 order by 1")
    print(f"""  DuckDB:     import duckdb; issues = cat.load_table("jira.issue_search").scan().to_arrow()
              duckdb.sql("{query}").show()
""")
    duckdb.sql(query).show()


def run_dev(scale: str, port: str) -> int:
    from jira_sim.process import running_simulator

    with running_simulator(["--scale", scale]) as (url, _proc):
        env = {**os.environ, **DEMO_CREDENTIALS, "JIRA_BASE_URL": url, "DAGSTER_HOME": str(_dagster_home())}
        print(f"Simulator at {url}; starting dagster dev on http://127.0.0.1:{port}", flush=True)
        try:
            return subprocess.call([sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-p", port],
                                   cwd=REPO_ROOT, env=env)
        except KeyboardInterrupt:
            return 0


# The README's examples of the history tables (README "Jira's history as tables").
HISTORY_QUERIES = {
    "Median cycle time per project": (
        "issue_flow",
        "select project_key, count(*) as done_issues, "
        "round(median(cycle_seconds) / 86400, 1) as median_cycle_days, "
        "round(median(lead_seconds) / 86400, 1) as median_lead_days "
        "from issue_flow where done_at is not null group by project_key order by project_key"),
    "Committed against completed points per sprint": (
        "sprint_report",
        "select name, state, committed_issues, committed_points, added_points, removed_points, "
        "completed_issues, completed_points, not_completed_points "
        "from sprint_report order by start_date, sprint_id"),
}


def run_history_queries(catalog) -> dict:
    """Each README query on the lake's history tables (DuckDB over the Iceberg tables): title -> DuckDB relation."""
    import duckdb

    connection = duckdb.connect()
    out = {}
    for title, (table, query) in HISTORY_QUERIES.items():
        connection.register(table, catalog.load_table(("jira", table)).scan().to_arrow())
        out[title] = connection.sql(query)
    return out


def _history_queries(catalog) -> None:
    try:
        results = run_history_queries(catalog)
    except ImportError:
        return
    for title, relation in results.items():
        print(f"  {title}:")
        relation.show()
