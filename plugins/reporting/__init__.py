"""The Reporting API's adapters: OData options parsed into the query model (odata-query),
the query model as SQL for SQLite and PostgreSQL, the reader that runs it, sealed cursors."""

from .cursors import SealedCursors
from .parsing import ODataQueryParser, parse_options
from .reader import PiccoloReporting

__all__ = ["ODataQueryParser", "PiccoloReporting", "SealedCursors", "parse_options"]
