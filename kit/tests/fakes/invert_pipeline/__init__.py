"""A small pipeline on the kit's TorchLivePipeline, for the kit's own tests (no ai-runner
weights, no download): it inverts frames, tinted by a flavour whose tint is its weights."""
