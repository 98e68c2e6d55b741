"""The deployment's Definitions with the lake maintenance job and schedule added, as definitions.py will wire them
(`maintenance_definitions(names, prefixes)` beside the automation jobs). bench_maintenance.py launches the job from
this file with `dagster job execute -f benchmarks/_maintained_defs.py -j jira_lake_maintenance`."""

from dagster import Definitions

from jira_assets.defs.definitions import definitions_from_env
from jira_assets.defs.maintenance import maintenance_definitions
from jira_assets.defs.site import ONLY_SITE
from jira_assets.selection import enabled_endpoints

_maintenance = maintenance_definitions(enabled_endpoints(), [ONLY_SITE])
defs = Definitions.merge(definitions_from_env(),
                         Definitions(jobs=_maintenance["jobs"], schedules=_maintenance["schedules"]))
