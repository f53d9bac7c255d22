"""Public keys Stint trusts for activation files (``*.pub.pem``); data only, no code."""
