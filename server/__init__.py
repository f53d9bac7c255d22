"""The app assembly: the layer above ``web/`` and ``admin/`` that builds the Litestar app
(:mod:`server.app`) and the ``stint`` command (:mod:`server.cli`).

Nothing here is imported eagerly: ``stint db upgrade`` should not pay for loading the web app.
"""
