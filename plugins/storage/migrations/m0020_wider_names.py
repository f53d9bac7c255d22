"""Room for a whole e-mail where Stint writes one: a person's name (a nameless admin is
named after their e-mail) and the audit trail's actor and subject (``user.added`` records
the e-mail). E-mails may have 320 characters; these columns had 200, so on PostgreSQL such
a signup, user or first sign-in failed with a database error. Widening a ``VARCHAR`` keeps
every row and takes no rewrite on PostgreSQL."""

from .columns import PostgresOnly

ID = "0020"
DESCRIPTION = "names, audit actors and subjects take a whole e-mail (320 characters)"

STATEMENTS = [
    PostgresOnly("ALTER TABLE person ALTER COLUMN name TYPE VARCHAR(320)"),
    PostgresOnly("ALTER TABLE audit_event ALTER COLUMN actor TYPE VARCHAR(320)"),
    PostgresOnly("ALTER TABLE audit_event ALTER COLUMN subject TYPE VARCHAR(320)"),
]
