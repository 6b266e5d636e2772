"""Device copies (ai_runner_kit.live.device): frames to the model as a channels-last view, back
clamped with NaN and inf mapped into [0, 1], and the device PIPELINE_DEVICE picks."""

import math

import pytest
import torch
from ai_runner_kit.live import device


def test_upload_on_the_cpu_is_a_channels_last_view_and_download_clamps():
    frames = device.DeviceFrames(torch.device("cpu"), torch.float32)
    frame = torch.rand(1, 32, 48, 3)
    pixels = frames.upload(frame).wait()
    assert pixels.shape == (1, 3, 32, 48)
    assert pixels.data_ptr() == frame.data_ptr()  # no copy
    assert pixels.is_contiguous(memory_format=torch.channels_last)

    image = torch.tensor([math.nan, math.inf, -math.inf, 1.5, -0.5, 0.25]).view(1, 3, 1, 2)
    back = frames.download(image.half())
    assert back.shape == (1, 1, 2, 3) and back.dtype == torch.float32 and back.is_contiguous()
    assert back.permute(0, 3, 1, 2).flatten().tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 0.25]


def test_half_precision_frames_round_trip_within_half_precision():
    frames = device.DeviceFrames(torch.device("cpu"), torch.float16)
    frame = torch.rand(1, 16, 16, 3)
    pixels = frames.upload(frame).wait()
    assert pixels.dtype == torch.float16
    torch.testing.assert_close(frames.download(pixels), frame, atol=1e-3, rtol=0)


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [("", "cuda" if torch.cuda.is_available() else "cpu"), ("cpu", "cpu"), (" cpu ", "cpu")],
)
def test_model_device_follows_pipeline_device(monkeypatch, wanted, expected):
    monkeypatch.setenv("PIPELINE_DEVICE", wanted)
    assert device.model_device().type == expected


@pytest.mark.parametrize(
    ("wanted", "says"),
    [("gpu", "not a torch device"), ("meta", "runs on cpu or cuda")]
    + ([] if torch.cuda.is_available() else [("cuda", "no CUDA GPU")]),
)
def test_model_device_refuses_what_it_cannot_use(monkeypatch, wanted, says):
    monkeypatch.setenv("PIPELINE_DEVICE", wanted)
    with pytest.raises(ValueError, match=says):
        device.model_device()
