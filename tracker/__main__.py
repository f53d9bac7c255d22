"""``python -m tracker`` is ``stint-tracker``."""

from tracker.cli import main

raise SystemExit(main())
