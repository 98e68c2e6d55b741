"""Sink side: Arrow batches -> Iceberg tables (pyiceberg). Knows nothing of Jira.

arrow.py (records -> typed Arrow batches; the one table of column types), catalog.py (which catalog), reader.py
(read-only access), writer.py (one atomic commit per write), history.py (what commits recorded), maintenance.py
(compaction, snapshot expiry, orphan removal), locks.py (one writer per table), snowflake.py (Snowflake setup SQL and
refresh statements).
"""
