"""``nngrade mark``: a local web app for marking written answers by hand (docs/marking.md)."""
