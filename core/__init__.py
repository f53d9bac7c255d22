"""Stint's domain: pure Python, no framework, no I/O.

Everything here can be read without knowing Litestar, Piccolo or Celery; the
plugins around it implement the ports each context declares in its ``ports`` module
(``core/<context>/ports.py``; the unit of work in :mod:`core.unit_of_work`).
"""
