"""The snapshot summary keys the sync strategies commit with their data (strings in each Iceberg commit).

Every cursor lives in the summary of the commit that wrote its data, so a failed or killed run can never move a
cursor past what was written; rerunning converges to the same tables.
"""

SYNCED_AT = "jira.synced-at"  # when the run that made this commit fetched its data (ISO, UTC)
FULL = "jira.full-load"  # "true" when the commit replaced the whole table
ENDPOINT = "jira.endpoint"  # the catalogue row the commit came from
CURSOR_UPDATED = "jira.cursor.updated"  # issue_search: newest fields.updated committed (ISO, UTC)
FILTER = "jira.filter"  # issue_search: fingerprint of the JQL filter and start date it was loaded with
CENSUS_AT = "jira.census.at"  # issue_search, worklog_updated: when the last deletion census ran
CENSUS_GONE = "jira.census.gone"  # issue_search: ids the census removed in this commit, comma-separated
CUSTOM_FIELDS = "jira.custom-fields"  # issue_search: the custom fields its columns were planned from, comma-separated
SETTINGS = "jira.settings"  # derived tables: fingerprint of the settings they were computed with
CUSTOM_COLUMNS = "jira.custom-columns"  # issue_search: JSON {column: field id + part} of this site's custom columns
PARENT_WATERMARK = "jira.parent.synced-at"  # children: the parent's newest commit they have processed
WORKLOG_UPDATED_CURSOR = "jira.cursor.worklog-updated"  # epoch ms, worklog/updated
WORKLOG_DELETED_CURSOR = "jira.cursor.worklog-deleted"  # epoch ms, worklog/deleted
