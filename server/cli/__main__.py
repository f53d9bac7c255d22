"""``python -m server.cli``: the same as the ``stint`` command."""

import sys

from server.cli import main

sys.exit(main())
