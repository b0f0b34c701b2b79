"""Datasets the notebook loads, read from files next to it (nothing is downloaded)."""
