"""The Reporting API: OData v4 under ``/api/odata/v1`` (issue #18; ``docs/reporting.md``).

Its own router (``server/app.py``): OData clients expect OData's answers, so errors here are
OData JSON errors (``{"error": {"code", "message"}}``), never problem+json, and every answer
carries ``OData-Version: 4.0``. Parsing is ``plugins.reporting.parsing`` (through the
composition root), the query model and its rules are ``core.reporting``, the use case
``core.services.reporting``.

Credentials: the API's bearer tokens and personal access tokens, and — on these routes
only — HTTP Basic with a personal access token as the password (any user name), which is
what Excel's and Power BI's OData feed dialogs offer. Only here, because browsers remember
Basic credentials and send them on their own: on routes that change state that would let
another site act for the user (CSRF); every route here only reads.

The parts: :mod:`~web.api.odata.routes` (the controller and the router),
:mod:`~web.api.odata.auth` (the credentials above), :mod:`~web.api.odata.options` (the query
options of a request, its key, ``Prefer: odata.maxpagesize``), :mod:`~web.api.odata.skiptoken`
(what a ``$skiptoken`` is bound to and carries), :mod:`~web.api.odata.answers` (OData's JSON
answers and errors) and :mod:`~web.api.odata.metadata` (the CSDL of ``$metadata``).
"""
