"""Where the outputs go: one H.264 MP4 for a stream, one PNG per image; with the input beside the
output when asked. Encoding runs on its own thread, so the event loop that drives the pipeline
never waits for it."""

from __future__ import annotations

import queue
import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

# How many frames may wait for the encoder before the stream waits for it (about 2 s of video).
ENCODER_BACKLOG = 48


def side_by_side(input_rgb: np.ndarray, output_rgb: np.ndarray) -> np.ndarray:
    """The input on the left, scaled to the output's height when the sizes differ."""
    height = output_rgb.shape[0]
    if input_rgb.shape[0] != height:
        width = round(input_rgb.shape[1] * height / input_rgb.shape[0] / 2) * 2
        input_rgb = np.asarray(Image.fromarray(input_rgb).resize((width, height)))
    return np.concatenate([input_rgb, output_rgb], axis=1)


class Mp4Writer:
    """Frames stamped with their stream index at `fps`; an index skipped (a frame the pipeline
    dropped) shows the previous frame for longer, as a player of the live stream would."""

    def __init__(self, path: Path, fps: Fraction) -> None:
        self.path = path
        self.frames = 0
        self._fps = fps
        self._queue: queue.Queue[tuple[int, np.ndarray] | None] = queue.Queue(ENCODER_BACKLOG)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode_all, name="mp4-writer", daemon=True)
        self._thread.start()

    def write(self, index: int, rgb: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((index, rgb))

    def close(self) -> None:
        """Flush the encoder and finish the file; raises what the encoder raised, if anything."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _encode_all(self) -> None:
        try:
            first = self._queue.get()
            if first is not None:  # no frames, no file
                self._encode(first)
        except BaseException as error:  # reported by write() or close(), on the caller's thread
            self._error = error
            while self._queue.get() is not None:  # let write() and close() go on
                pass

    def _encode(self, first: tuple[int, np.ndarray]) -> None:
        height, width = first[1].shape[:2]
        options = {"movflags": "+faststart"}
        with av.open(str(self.path), "w", format="mp4", options=options) as mp4:
            stream = mp4.add_stream(
                "libx264", rate=self._fps, options={"preset": "veryfast", "crf": "18"}
            )
            assert isinstance(stream, av.VideoStream)  # libx264 makes a video stream
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.time_base = 1 / self._fps
            item: tuple[int, np.ndarray] | None = first
            while item is not None:
                index, rgb = item
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
                frame.pts, frame.time_base = index, 1 / self._fps
                for packet in stream.encode(frame):
                    mp4.mux(packet)
                self.frames += 1
                item = self._queue.get()
            for packet in stream.encode(None):
                mp4.mux(packet)


class PngFolderWriter:
    """One PNG per image, named after the image it came from."""

    def __init__(self, folder: Path, names: list[str]) -> None:
        self.path = folder
        self.frames = 0
        self._names = names
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, index: int, rgb: np.ndarray) -> None:
        Image.fromarray(rgb).save(self.path / self._names[index])
        self.frames += 1

    def close(self) -> None:
        pass
