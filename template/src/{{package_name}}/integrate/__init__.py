"""Adds this pipeline to local checkouts of ai-runner and go-livepeer.

Standard library only, so that it runs before (or without) `uv sync`:
`python -m <package>.integrate --ai-runner PATH --go-livepeer PATH [--check]`.
integration/README.md says when to use it, and what go-livepeer then does with the pipeline.
"""
