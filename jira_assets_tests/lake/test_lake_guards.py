"""A lake that cannot be trusted is named, never silently resynced; one writer per table at a time, and a crash
never leaves a table locked."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pyarrow as pa
import pytest

from jira_assets.lake.catalog import LakeError, open_catalog
from jira_assets.lake.writer import LakeWriter, TableWrite


def populated(root):
    writer = LakeWriter(open_catalog(str(root)))
    writer.write("statuses", TableWrite(batches=pa.table({"id": ["1", "2"]}).to_batches(),
                                        schema=pa.schema([("id", pa.string())])))
    return writer


def test_an_empty_catalog_file_is_named(tmp_path):
    populated(tmp_path / "lake")
    (tmp_path / "lake" / "catalog.db").write_bytes(b"")
    with pytest.raises(LakeError, match=r"catalog.db is empty \(0 bytes\) while .*warehouse holds tables.*Restore it"):
        open_catalog(str(tmp_path / "lake"), catalog_name="fresh")


def test_a_corrupt_catalog_file_is_named(tmp_path):
    (tmp_path / "lake").mkdir()
    (tmp_path / "lake" / "catalog.db").write_text("this is not a database, it is a note\n" * 200)
    with pytest.raises(LakeError, match=r"catalog.db is not a readable SQLite catalog"):
        open_catalog(str(tmp_path / "lake"))


def test_a_missing_catalog_beside_tables_is_named(tmp_path):
    populated(tmp_path / "lake")
    (tmp_path / "lake" / "catalog.db").unlink()
    with pytest.raises(LakeError, match=r"catalog.db is missing while .*warehouse holds tables"):
        open_catalog(str(tmp_path / "lake"), catalog_name="again")


def test_a_copied_lake_is_refused(tmp_path):
    populated(tmp_path / "lake")
    shutil.copytree(tmp_path / "lake", tmp_path / "copy")
    with pytest.raises(LakeError, match=r"a copied or moved lake folder keeps reading and writing the original"):
        open_catalog(str(tmp_path / "copy"))


HOLDER = """
import sys, time
from jira_assets.lake.catalog import open_catalog
from jira_assets.lake.writer import LakeWriter
with LakeWriter(open_catalog(sys.argv[1])).table_lock("statuses"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_one_writer_per_table_and_a_killed_holder_releases_it(tmp_path):
    writer = populated(tmp_path / "lake")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "lake")], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        waited: list[str] = []

        def on_wait(message):
            waited.append(message)
            holder.kill()  # SIGKILL: no cleanup runs in the holder

        with writer.table_lock("statuses", on_wait=on_wait):
            assert holder.wait(timeout=30) == -9
        assert waited == ["another sync of jira.statuses is running: waiting for it to commit"]
        with writer.table_lock("other"):  # other tables were never blocked
            pass
    finally:
        holder.kill()
