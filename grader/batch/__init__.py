"""Batch layer: grade_into and check_notebook, sources, the gradebook, progress, executors."""
