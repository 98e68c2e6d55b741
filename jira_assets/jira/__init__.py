"""Source side: talks to Jira Cloud. No Dagster, pyiceberg or lake imports below this package.

client.py (HTTP, throttle, retries, errors), throttle.py, site.py (which URL), paging.py (one class per paging
style), fetch.py (a catalogue row's pages, fanned out over parents), bulk.py (bulk reads), calls.py (single calls
the sync strategies need), jql.py (JQL literals).
"""
