"""Yours: the parameters, model, weights and ai-runner Pipeline class (`copier update` never
touches this folder). No imports here: ai-runner imports params.py where torch must not load."""
