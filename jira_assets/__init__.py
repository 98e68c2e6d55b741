"""Jira Cloud landed in Iceberg tables as Dagster assets. `jira_assets.JiraComponent` is the Dagster component
(README "Use it in your own Dagster project"); it is imported on first use, so the source side and the CLI load
without Dagster's component machinery."""

__all__ = ["JiraComponent"]


def __getattr__(name: str):
    if name == "JiraComponent":
        from jira_assets.defs.component import JiraComponent

        return JiraComponent
    raise AttributeError(f"module 'jira_assets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
