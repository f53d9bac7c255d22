"""Stint's domain: pure Python, no framework, no I/O.

Everything here can be read without knowing Litestar, Piccolo or Celery; the
plugins around it implement the ports declared in :mod:`core.ports`.
"""
