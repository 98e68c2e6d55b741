"""`jira-assets` command line: demo, dev, check, endpoints, simulator."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jira-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="start the simulator, materialize every default asset, print row counts")
    demo.add_argument("--scale", default="demo", choices=["demo", "standard", "large"])
    demo.add_argument("--seed", default="1")
    dev = sub.add_parser("dev", help="start the simulator and `dagster dev` on this project")
    dev.add_argument("--scale", default="demo", choices=["demo", "standard", "large"])
    dev.add_argument("--port", default="3000")
    check = sub.add_parser("check", help="validate the JIRA_* credentials (or every site of the component's "
                           "defs.yaml files) and report which endpoints they can read")
    check.add_argument("--defs", action="append", default=[], metavar="DEFS_YAML",
                       help="a jira_assets.JiraComponent defs.yaml: check each of its sites (repeatable)")
    sub.add_parser("endpoints", help="list the endpoint catalogue")
    sub.add_parser("snowflake-sql", help="print the Snowflake setup SQL (--mode horizon|rest|object-store)",
                   add_help=False)
    sub.add_parser("simulator", help="run the Jira Cloud simulator (same flags as python -m jira_sim)",
                   add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "simulator":
        return subprocess.call([sys.executable, "-m", "jira_sim", *rest])
    if args.command == "snowflake-sql":
        from jira_assets.cli.snowflake_sql import main as snowflake_sql

        return snowflake_sql(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    command = {"demo": cmd_demo, "dev": cmd_dev, "check": cmd_check, "endpoints": cmd_endpoints}[args.command]
    try:
        status = command(args)
        sys.stdout.flush()  # inside the try: a closed pipe shows up here, at the flush
        return status
    except BrokenPipeError:
        # The reader went away (`jira-assets endpoints | head`): not an error. Point stdout at devnull so the
        # interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def cmd_endpoints(args: argparse.Namespace) -> int:
    from jira_assets.endpoints import ENDPOINTS

    for spec in ENDPOINTS:
        flags = ("on " if spec.enabled_by_default else "off") + (" admin" if spec.admin_only else "      ")
        parent = f" <- {spec.parent.asset}" if spec.parent else ""
        print(f"{spec.name:24} {flags}  {spec.group:22} {spec.sync.name:22} {spec.source}{parent}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from jira_assets.cli.demo import run_demo

    return run_demo(args.scale, args.seed)


def cmd_dev(args: argparse.Namespace) -> int:
    from jira_assets.cli.demo import run_dev

    return run_dev(args.scale, args.port)


def cmd_check(args: argparse.Namespace) -> int:
    from jira_assets.cli.check import run_check

    return run_check(args.defs)


if __name__ == "__main__":
    sys.exit(main())
