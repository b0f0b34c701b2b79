"""Grading layer: one notebook read, prepared, run and judged by its assignment's checks."""
