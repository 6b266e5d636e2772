"""Offline double of Livepeer ai-runner v0.14.1 (not the real runner).

It reproduces the pipeline-facing API (runner.live.pipelines, runner.live.trickle,
runner.pipelines.base, runner.app) and runs live streams over trickle on the CPU, so that
projects can be tested without a GPU or network access. It has no GPU isolation and no
audio. See the README for every difference from upstream.
"""

IS_DOUBLE = True
DOUBLE_OF = "v0.14.1"
__version__ = "0.14.1+double"
