"""Grading: one internal result per lab run, and thin adapters that write each format."""
