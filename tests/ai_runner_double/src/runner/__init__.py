"""Offline double of Livepeer ai-runner v0.14.1 (not the real runner).

It reproduces the pipeline-facing API (runner.live.pipelines, runner.live.trickle,
runner.pipelines.base, runner.app) so that projects can be tested without a GPU or
network access. It has no trickle transport, no GPU isolation and never starts a stream.
"""

IS_DOUBLE = True
DOUBLE_OF = "v0.14.1"
__version__ = "0.14.1+double"
