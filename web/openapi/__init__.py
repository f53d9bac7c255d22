"""What the OpenAPI schema says beyond what Litestar derives: operations (ids, descriptions,
security, problem answers, examples), links, and strict bodies.

One concept per module:

- ``strict``: ``StrictBodies``, ``additionalProperties: false`` on bodies that refuse unknown
  fields (a schema plugin among the app's plugins).
- ``links``: the ``LINKS`` table (which answer feeds which next call) and ``document_links``.
- ``operation_table``: ``OPERATIONS``, each operation's id and description.
- ``operations``: ``document_operations``, which writes the table, security, problem answers
  and examples into the schema, and ``undocumented``, which names the routes the table misses.
- ``security``: the security schemes and which of them each operation accepts.
- ``problem_answers``: which problems an operation can answer (``EXTRA_STATUSES`` and the
  route's shape), their descriptions and examples.
- ``odata``, ``oauth``: the Reporting API's and the authorization server's own errors, in
  place of problems.
- ``examples``: an example on every JSON body (``EXAMPLES``, ``example_of``, ``add_examples``).

``server/app.py`` finishes the document with ``document_problems`` (``web/problems.py``) and
``document_idempotency`` (``web/idempotency.py``), then ``document_operations``, then
``document_links`` (links name operations by id).
"""

from web.openapi.examples import EXAMPLES, add_examples, example_of
from web.openapi.links import LINKS, Link, document_links
from web.openapi.oauth import OAUTH_PREFIXES as OAUTH_PREFIXES
from web.openapi.odata import ODATA_PREFIX as ODATA_PREFIX
from web.openapi.operation_table import OPERATIONS
from web.openapi.operations import document_operations, undocumented
from web.openapi.problem_answers import EXTRA_STATUSES
from web.openapi.security import SECURITY_SCHEMES
from web.openapi.strict import StrictBodies

__all__ = [
    "EXAMPLES", "EXTRA_STATUSES", "LINKS", "OPERATIONS", "SECURITY_SCHEMES", "Link", "StrictBodies",
    "add_examples", "document_links", "document_operations", "example_of", "undocumented",
]
