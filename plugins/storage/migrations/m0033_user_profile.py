"""A user's reading preferences (issue #21, the profile page): ``tenant_user.locale``
(``en``/``de``), ``time_format`` (``hm``: 1:30, ``decimal``: 1.50) and ``week_starts_on``
(a weekday's English name). NULL for every existing user: English, 1:30 and Monday, exactly
what they saw before. Additive: three nullable columns. (The time zone stays where the
timer's preference keeps it, ``tracking_preference.time_zone``.)
"""

from .columns import AddColumn

ID = "0033"
DESCRIPTION = "tenant_user.locale, time_format, week_starts_on (NULL: en, hm, monday)"

STATEMENTS = [
    AddColumn("tenant_user", "locale", "VARCHAR(8)"),
    AddColumn("tenant_user", "time_format", "VARCHAR(8)"),
    AddColumn("tenant_user", "week_starts_on", "VARCHAR(10)"),
]
