"""Checks layer: the public API that assignment check files import."""
