"""A tenant's data as one archive, and back (``stint tenant export`` / ``stint tenant import``).

What is exported is discovered from the database, so tables added later are included
without a change here:

- the ``tenant`` row, and every row of every table with a ``tenant_id`` column;
- the rows the tenant row points at by foreign key (its enterprise and subscription), the
  rows of tables *without* ``tenant_id`` that point at those (seats, credit entries, billing
  customer, licence registrations …), and the rows all of these point at in turn (the
  people behind the tenant's users and seats).

The archive is a ZIP written as a stream (rows are read with a server-side cursor on
PostgreSQL and a plain cursor on SQLite, inside one read-only snapshot, and written as they
come: memory stays flat however many worklogs there are): ``tables/<table>.jsonl`` (one JSON
object per row), ``worklogs.csv``, ``manifest.json`` (the tables, their columns, row counts
and SHA-256 of each member) and ``manifest.sig`` (HMAC-SHA256 of the manifest with the
current secret key, named by its ``kid``). The import checks the signature and every
member's checksum before it writes anything, then inserts parents before children in one
transaction: all or nothing.

The parts: :mod:`~plugins.storage.tenant_export.archive` (the format's name, the error and
summary both directions answer with, values to and from JSON),
:mod:`~plugins.storage.tenant_export.databases` (the two engines: schema and streamed rows),
:mod:`~plugins.storage.tenant_export.writing` (the export: rows out, the manifest signed) and
:mod:`~plugins.storage.tenant_export.restoring` (the import: the archive verified, its rows
inserted).
"""
