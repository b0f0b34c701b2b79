"""Outputs layer: the student report, the class summary, tables and other tools' formats."""
