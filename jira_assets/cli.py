"""`jira-assets` command line: demo, dev, check, endpoints, simulator."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_CREDENTIALS = {"JIRA_SUBDOMAIN": "demo", "JIRA_EMAIL": "demo@example.com", "JIRA_API_TOKEN": "demo-token"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jira-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="start the simulator, materialize every default asset, print row counts")
    demo.add_argument("--scale", default="demo", choices=["demo", "standard", "large"])
    demo.add_argument("--seed", default="1")
    dev = sub.add_parser("dev", help="start the simulator and `dagster dev` on this project")
    dev.add_argument("--scale", default="demo", choices=["demo", "standard", "large"])
    dev.add_argument("--port", default="3000")
    sub.add_parser("check", help="validate the JIRA_* credentials and report which endpoints they can read")
    sub.add_parser("endpoints", help="list the endpoint catalogue")
    sub.add_parser("snowflake-sql", help="print the Snowflake setup SQL (--mode horizon|rest|object-store)",
                   add_help=False)
    sub.add_parser("simulator", help="run the Jira Cloud simulator (same flags as python -m jira_sim)",
                   add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "simulator":
        return subprocess.call([sys.executable, "-m", "jira_sim", *rest])
    if args.command == "snowflake-sql":
        from jira_assets.snowflake_cli import main as snowflake_sql

        return snowflake_sql(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return {"demo": cmd_demo, "dev": cmd_dev, "check": cmd_check, "endpoints": cmd_endpoints}[args.command](args)


def _dagster_home() -> Path:
    """A local Dagster instance in .dagster_home, configured by the repo's dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or REPO_ROOT / ".dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def cmd_endpoints(args: argparse.Namespace) -> int:
    from jira_assets.endpoints import ENDPOINTS

    for spec in ENDPOINTS:
        flags = ("on " if spec.enabled_by_default else "off") + (" admin" if spec.admin_only else "      ")
        parent = f" <- {spec.parent.asset}" if spec.parent else ""
        print(f"{spec.name:24} {flags}  {spec.group:22} {spec.fetch.method} {spec.fetch.path}{parent}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from jira_sim.process import running_simulator

    print(f"Starting the Jira Cloud simulator ({args.scale} tenant, seed {args.seed}) ...", flush=True)
    with running_simulator(["--scale", args.scale, "--seed", str(args.seed)]) as (url, _proc):
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

    from jira_assets import definitions

    instance = DagsterInstance.get()
    assets = definitions.assets
    names = [a.key.path[-1] for a in assets]
    result_box: dict = {}

    def run() -> None:
        try:
            result_box["result"] = materialize(
                assets, resources=definitions.defs.resources, instance=instance, raise_on_error=False,
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
        from jira_assets.run_events import run_outcome

        for step, message in run_outcome(result)[1].items():
            print(f"  FAILED {step}: {message}", file=sys.stderr)
        return False
    print(f"All {len(names)} assets materialized in {time.monotonic() - started:.1f}s.")
    return True


def _latest_run_id(instance) -> str | None:
    runs = instance.get_runs(limit=1)
    return runs[0].run_id if runs else None


def _print_lake_summary() -> None:
    from jira_assets.lake.writer import open_catalog

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
              cat.load_table("jira.issue_search").scan(selected_fields=("key", "status_id")).to_arrow()
  DuckDB:     import duckdb; t = cat.load_table("jira.issue_search").scan().to_arrow()
              duckdb.sql("select status_category_key, count(*) from t group by 1").show()
Open the UI:  make dev   (then http://127.0.0.1:3000)""")


def cmd_dev(args: argparse.Namespace) -> int:
    from jira_sim.process import running_simulator

    with running_simulator(["--scale", args.scale]) as (url, _proc):
        env = {**os.environ, **DEMO_CREDENTIALS, "JIRA_BASE_URL": url, "DAGSTER_HOME": str(_dagster_home())}
        print(f"Simulator at {url}; starting dagster dev on http://127.0.0.1:{args.port}", flush=True)
        try:
            return subprocess.call([sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-p", args.port],
                                   cwd=REPO_ROOT, env=env)
        except KeyboardInterrupt:
            return 0


def cmd_check(args: argparse.Namespace) -> int:
    from jira_assets.access_check import run_check

    return run_check()


if __name__ == "__main__":
    sys.exit(main())
