"""Adapters that implement the core's ports (core/<context>/ports.py); bootstrap.py wires them."""
