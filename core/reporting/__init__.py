"""The Reporting API (OData v4, issue #18): the entity model, the query model with its
validation and limits, who sees which rows, and the ports the adapters fill."""

from .model import MODEL, NAMESPACE, Edm, EntitySet, Navigation, Property
from .ports import CursorSeal, Page, QueryParser, ReportingReader
from .query import MAX_DEPTH, MAX_TERMS, Query, QueryRefused
from .validation import validate
from .visibility import Viewer, visible_rows

__all__ = [
    "MAX_DEPTH",
    "MAX_TERMS",
    "MODEL",
    "NAMESPACE",
    "CursorSeal",
    "Edm",
    "EntitySet",
    "Navigation",
    "Page",
    "Property",
    "Query",
    "QueryParser",
    "QueryRefused",
    "ReportingReader",
    "Viewer",
    "validate",
    "visible_rows",
]
