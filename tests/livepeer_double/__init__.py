"""Test doubles of go-livepeer (NOT go-livepeer): a trickle server and a live-runner orchestrator.

See README.md in this folder for what they reproduce and what they refuse to do.
"""
