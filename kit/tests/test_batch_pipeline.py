"""The kit's TorchBatchPipeline with a fake model: loading off the server's thread, health,
the device's range guard, and a load that fails saying why."""

import threading

import pytest
import torch
from ai_runner_kit.batch import ModelNotReady, TorchBatchPipeline
from pydantic import BaseModel


class Gain(BaseModel):
    factor: float = 2.0


class Doubling(TorchBatchPipeline):
    name = "doubling"
    params_class = Gain
    released = threading.Event()  # the load waits for it: the test says when loading ends

    def load_model(self) -> torch.nn.Module:
        self.released.wait(60)
        return torch.nn.Identity()

    def run_model(self, model, images, params):
        return model(images) * params.factor


class Broken(Doubling):
    def load_model(self):
        raise FileNotFoundError("no weights in /models/doubling: run --prepare-models")


def wait_for_health(pipeline: TorchBatchPipeline, *statuses: str) -> str:
    for _ in range(6000):  # the loader thread finishes in a few ms; this only bounds a hang
        if (status := pipeline.get_health().status) in statuses:
            return status
        threading.Event().wait(0.01)
    raise AssertionError(f"health stayed {pipeline.get_health().status}")


def test_it_says_loading_and_refuses_requests_until_the_model_is_ready():
    Doubling.released.clear()
    pipeline = Doubling("doubling", "/models")
    assert pipeline.get_health().status == "LOADING"
    with pytest.raises(ModelNotReady, match="still loading"):
        pipeline(torch.rand(1, 8, 8, 3), Gain())
    Doubling.released.set()
    assert wait_for_health(pipeline, "OK", "ERROR") == "OK"


def test_a_request_comes_back_in_ai_runners_format_and_range():
    Doubling.released.set()
    pipeline = Doubling("doubling", "/models")
    wait_for_health(pipeline, "OK")
    frame = torch.tensor([[[[0.25, 0.75, float("nan")]]]])
    out = pipeline(frame, Gain())
    assert out.shape == (1, 1, 1, 3) and out.dtype == torch.float32 and out.device.type == "cpu"
    assert out.flatten().tolist() == [0.5, 1.0, 0.0]  # doubled, clamped, NaN zeroed


def test_a_failed_load_is_an_error_that_says_why():
    pipeline = Broken("doubling", "/models")
    assert wait_for_health(pipeline, "ERROR", "OK") == "ERROR"
    assert "--prepare-models" in (pipeline.load_error or "")
    with pytest.raises(ModelNotReady, match="--prepare-models"):
        pipeline(torch.rand(1, 8, 8, 3), Gain())


def test_benchmark_step_runs_the_model_alone():
    Doubling.released.set()
    pipeline = Doubling("doubling", "/models")
    wait_for_health(pipeline, "OK")
    assert pipeline.benchmark_step(16, 8)().shape == (1, 3, 8, 16)
