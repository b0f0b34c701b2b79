"""Helpers the notebook imports, as "Deep Learning from Scratch" ships them in common/."""
