"""Runner layer: one sandboxed kernel, its limits, running cells, the transport to checks."""
