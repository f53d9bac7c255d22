"""Scopes on personal access tokens (issues #18, #20): what a token may be used for.

``personal_access_token.scopes`` holds the token's scopes space-separated
(``core.identity.scopes``). Every existing token gets NULL, which means full access —
everything its user's role allows, as before — so existing tokens keep working unchanged.
Additive: one nullable column.
"""

from .columns import AddColumn

ID = "0028"
DESCRIPTION = "personal_access_token.scopes (NULL: full access, as every older token had)"

STATEMENTS = [
    AddColumn("personal_access_token", "scopes", "VARCHAR(200)"),
]
