"""Modules that run inside the student's kernel; the grader imports only the codec from here."""
