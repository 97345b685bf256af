"""Checkers over traces and histories."""
