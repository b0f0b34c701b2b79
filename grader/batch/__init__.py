"""Batch layer: where submissions come from, the gradebook, progress, and executors."""
