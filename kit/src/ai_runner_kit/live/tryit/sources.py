"""What the command reads: a video file, an image or a folder of images, the generated sample
clip, or a camera. Every frame comes out as RGB uint8 (height, width, 3), fitted to the size the
stream takes as ai-runner's decoder fits it (scaled to cover, centre-cropped, never stretched).

Video, sample and camera are on a clock (`fps`, at most ai-runner's 24 fps); images are not.
"""

from __future__ import annotations

import contextlib
import math
import platform
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..session.errors import EXIT_INPUT, ClientError
from ..session.frames import (
    MAX_RUNNER_FPS,
    SAMPLE_SECONDS,
    InputVideo,
    input_frames,
    open_input,
    sample_frames,
    sending_fps,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
# Where PyAV finds cameras: FFmpeg's input format, and the first camera's name.
CAMERAS = {"Linux": ("v4l2", "/dev/video0"), "Darwin": ("avfoundation", "0")}


@dataclass
class Source:
    kind: str  # "video", "sample", "camera" or "images"
    name: str  # names the default outputs: try-output/<name>.mp4
    frames: Iterator[np.ndarray]
    fps: Fraction | None  # None: images, each sent once
    expected_frames: int | None = None  # for the progress bar; None when unknown
    image_names: list[str] = field(default_factory=list)  # the output PNGs, in frame order
    video: InputVideo | None = None

    def close(self) -> None:
        if self.video is not None:
            self.video.close()


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def open_video(path: Path, width: int, height: int, seconds: float | None) -> Source:
    video = open_input(path)  # a ClientError that says why, when it cannot be read
    fps = sending_fps(None, video.fps)
    duration = float(video.stream.duration * video.stream.time_base) if video.stream.duration else 0
    expected = math.ceil(min(duration, seconds or duration) * fps) if duration else None
    frames = (as_rgb(frame) for frame in input_frames(video, width, height, fps, seconds))
    return Source("video", path.stem, frames, fps, expected, video=video)


def open_sample(width: int, height: int, seconds: float | None) -> Source:
    fps, seconds = MAX_RUNNER_FPS, seconds or SAMPLE_SECONDS
    frames = (as_rgb(frame) for frame in sample_frames(width, height, fps, seconds))
    return Source("sample", "sample", frames, fps, max(1, math.ceil(seconds * fps - 1e-9)))


def open_camera(device: str, width: int, height: int, seconds: float | None) -> Source:
    """The camera `device` ("" for the first one) through PyAV, or a ClientError saying what
    to do instead."""
    if platform.system() not in CAMERAS:
        raise ClientError(
            f"--camera works on Linux (v4l2) and macOS (avfoundation), not {platform.system()}: "
            "record a clip and give it as SOURCE",
            EXIT_INPUT,
        )
    input_format, first_camera = CAMERAS[platform.system()]
    device = device or first_camera
    if input_format == "v4l2" and not Path(device).exists():
        raise ClientError(
            f"no camera at {device}: plug one in, pick another with --camera /dev/videoN "
            "(ls /dev/video*), or give a video file or --sample instead",
            EXIT_INPUT,
        )
    # FFmpeg lists some formats under all their names at once: "video4linux2,v4l2".
    if not any(input_format in names.split(",") for names in av.formats_available):
        raise ClientError(
            f"this PyAV's FFmpeg cannot read cameras (no {input_format} input): install PyAV "
            "built against a system FFmpeg (pip install av --no-binary av), or record a clip "
            "and give it as SOURCE",
            EXIT_INPUT,
        )
    try:
        container = av.open(device, format=input_format)
    except (av.FFmpegError, OSError) as error:
        raise ClientError(f"cannot open the camera {device}: {error}", EXIT_INPUT) from error
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate
    video = InputVideo(container, stream, Fraction(rate) if rate else None)
    fps = sending_fps(None, video.fps)
    frames = (as_rgb(frame) for frame in input_frames(video, width, height, fps, seconds))
    expected = math.ceil(seconds * fps) if seconds else None
    return Source("camera", "camera", frames, fps, expected, video=video)


def open_images(path: Path, width: int, height: int) -> Source:
    """One image, or every image directly in a folder (in name order)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and is_image(p))
        if not files:
            raise ClientError(
                f"no images in {path} (looked for {', '.join(IMAGE_SUFFIXES)}): add some, or "
                "give a video file or --sample",
                EXIT_INPUT,
            )
        name = path.resolve().name or "images"
    else:
        files, name = [path], path.stem
    for file in files:  # headers only: a file that is no image fails now, not mid-run
        with opened_image(file):
            pass
    frames = (read_image(file, width, height) for file in files)
    stems = [file.stem for file in files]
    unique = len(set(stems)) == len(stems)  # a.jpg and a.png keep their suffixes apart
    names = [f"{file.stem if unique else file.name}.png" for file in files]
    return Source("images", name, frames, None, len(files), image_names=names)


def read_image(path: Path, width: int, height: int) -> np.ndarray:
    with opened_image(path) as image:
        try:
            fitted = ImageOps.fit(image.convert("RGB"), (width, height), Image.Resampling.BICUBIC)
        except OSError as error:  # truncated or damaged pixel data
            raise ClientError(f"cannot read {path} as an image: {error}", EXIT_INPUT) from error
    return np.array(fitted, dtype=np.uint8)  # a writable copy: torch shares its memory


@contextlib.contextmanager
def opened_image(path: Path) -> Iterator[Image.Image]:
    try:
        image = Image.open(path)
    except (UnidentifiedImageError, OSError) as error:
        raise ClientError(f"cannot read {path} as an image: {error}", EXIT_INPUT) from error
    with image:
        yield image


def as_rgb(frame: av.VideoFrame) -> np.ndarray:
    return frame.to_ndarray(format="rgb24")


def open_source(
    path: Path | None, camera: str | None, width: int, height: int, seconds: float | None
) -> Source:
    """The one input asked for: SOURCE (`path`), the camera (`camera` not None), else the sample."""
    if camera is not None:
        return open_camera(camera, width, height, seconds)
    if path is None:
        return open_sample(width, height, seconds)
    if not path.exists():
        raise ClientError(
            f"{path} not found: give a video file, an image or a folder of images", EXIT_INPUT
        )
    if path.is_dir() or is_image(path):
        return open_images(path, width, height)
    return open_video(path, width, height, seconds)
