"""The tenant and operator REST API: one module per vertical slice."""
