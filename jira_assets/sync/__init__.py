"""The middle: how each endpoint is kept in sync. One module per strategy (full_refresh, issue_search,
follow_parent, change_feed), each owning its plan, cursors, deletes and metadata; base.py holds what they share,
run.py turns a plan into the stream of Arrow batches the lake commits. Knows the source (jira) and the sink (lake),
nothing of Dagster."""
