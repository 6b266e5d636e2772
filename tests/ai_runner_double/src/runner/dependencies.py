"""FastAPI dependencies of the ai-runner v0.14.1 offline double."""

from fastapi import Request

from runner.pipelines.base import Pipeline


def get_pipeline(request: Request) -> Pipeline:
    return request.app.pipeline
