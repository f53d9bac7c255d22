"""Adapters that implement the ports of core.ports; bootstrap.py wires them."""
