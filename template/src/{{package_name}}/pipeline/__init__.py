"""The live pipeline: parameters, model and the ai-runner Pipeline class.

Keep this file free of imports: ai-runner imports `params.py` in a process that must not load
torch, and anything imported here would be loaded with it.
"""
