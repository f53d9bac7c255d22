"""Background jobs (SPEC §11): their ports. The jobs themselves are use cases in
:mod:`core.services` (renewals, notifications, retention, work items)."""
