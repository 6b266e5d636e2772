"""Your pipeline: its parameters, model, weights and the ai-runner Pipeline class.

Everything in this folder is yours: `copier update` never changes, adds or removes a file here.
Keep this file free of imports: ai-runner imports `params.py` in a process that must not load
torch, and anything imported here would be loaded with it.
"""
