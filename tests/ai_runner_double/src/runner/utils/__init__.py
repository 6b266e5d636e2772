"""Utilities of the ai-runner v0.14.1 offline double."""
