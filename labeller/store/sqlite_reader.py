"""Reading a query's result from a SQLite file as Arrow, through the ADBC SQLite driver
running in a helper process.

Why a process of its own: the ADBC driver links its own copy of the SQLite library, and two
SQLite libraries must never open one file in one process. SQLite works around POSIX
advisory locks (closing any descriptor of a file drops all of the process's locks on it)
with bookkeeping that each copy of the library keeps to itself; two copies in a process
can drop each other's locks and let another writer corrupt the database (sqlite.org,
"How To Corrupt An SQLite Database File", section 2.2.1). Python's ``sqlite3`` has the file
open whenever the store does, so the driver only ever runs in the child, which streams the
result back as Arrow IPC. The driver is found, never imported, in this process.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator

import pyarrow as pa

from labeller.errors import StoreError

_HELPER_SCRIPT = r"""
import json, sys
import pyarrow as pa
import adbc_driver_sqlite.dbapi as driver
request = json.loads(sys.stdin.readline())
try:
    connection = driver.connect(request["path"])
    cursor = connection.cursor()
    cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(request["batch_rows"])})
    cursor.execute(request["sql"])
    reader = cursor.fetch_record_batch()
    with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as out:
        for batch in reader:
            out.write_batch(batch)
    connection.close()
except BrokenPipeError:
    sys.exit(0)
except Exception as exc:
    sys.stderr.write((type(exc).__name__ + ": " + str(exc)).replace("\n", " ") + "\n")
    sys.exit(1)
"""
"""The helper: reads one request (JSON) from stdin, writes the result as Arrow IPC to stdout."""


def sqlite_batches(
    path: str, sql: str, batch_rows: int, message: Callable[[str], str]
) -> Iterator[pa.RecordBatch]:
    """The result of ``sql`` on the SQLite file at ``path``, as the driver types it, in
    batches of about ``batch_rows``. A failure raises ``StoreError(message(reason))``;
    closing the iterator early stops the helper."""
    request = {"path": path, "sql": sql, "batch_rows": batch_rows}
    helper = subprocess.Popen(
        [sys.executable, "-c", _HELPER_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        helper.stdin.write(json.dumps(request).encode() + b"\n")
        helper.stdin.close()
        with contextlib.suppress(pa.ArrowInvalid):  # no stream: the helper failed; its message follows
            yield from pa.ipc.open_stream(helper.stdout)
        if helper.wait() != 0:
            reason = helper.stderr.read().decode(errors="replace").strip().splitlines() or ["it stopped"]
            raise StoreError(message(reason[-1]))
    finally:
        if helper.poll() is None:
            helper.kill()
            helper.wait()
        for stream in (helper.stdout, helper.stderr):
            stream.close()
