"""The Dagster layer: the asset factory (assets.py), checks, freshness, jobs/schedules/sensors (automation.py), the
Jira resource, the Iceberg IO manager, the Snowflake resource and the Definitions builder. Besides the demo command,
the only package that imports Dagster."""
