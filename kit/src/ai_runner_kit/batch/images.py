"""Bytes to tensors and back, with limits checked before an image is decoded.

What decode() makes of the images it takes:
- The size is read from the header and checked before any pixel is decoded, so a small file
  that claims a huge size (a decompression bomb) costs nothing: 413.
- EXIF orientation is applied: a phone photo comes out upright.
- 16-bit greyscale PNGs are scaled from 0-65535 (16-bit colour PNGs open as 8-bit already).
- Palette, greyscale and CMYK images become RGB.
- Transparency is composited on black: a transparent pixel comes out black, whatever colour the
  file stored under it. The answer has no alpha channel.
- An animation (APNG, animated WebP) gives its first frame.
"""

import io

__all__ = [
    "MAX_PIXELS",
    "MAX_SIDE",
    "MAX_UPLOAD_BYTES",
    "ImageRejected",
    "decode",
    "encode_png",
]

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_SIDE = 2048
MAX_PIXELS = 2048 * 2048
FORMATS = ("PNG", "JPEG", "WEBP")
# Modes whose samples run to 65535 rather than 255: a 16-bit greyscale PNG opens as one.
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I")


class ImageRejected(ValueError):
    """The input is not an image we take; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def decode(data: bytes) -> torch.Tensor:
    """PNG, JPEG or WebP bytes -> (1, H, W, 3) float32 in [0, 1], upright."""
    if not data:
        raise ImageRejected("the image is empty (0 bytes)", 400)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRejected(f"the upload is over {MAX_UPLOAD_BYTES // 2**20} MiB", 413)
    image = open_checked(data)
    try:
        ImageOps.exif_transpose(image, in_place=True)  # decodes the pixels
        rgb = to_rgb(image)
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ImageRejected(f"the image is truncated or corrupt: {error}", 400) from None
    return torch.from_numpy(rgb).unsqueeze(0)


def open_checked(data: bytes) -> Image.Image:
    """Reads the header only, and refuses a size over the limits before anything is decoded."""
    too_large = f"at most {MAX_SIDE} pixels a side and {MAX_PIXELS:,} pixels in all"
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as error:
        # Pillow refuses sizes past 2 * Image.MAX_IMAGE_PIXELS itself; its message has the size.
        raise ImageRejected(f"the image is too large: {error} ({too_large})", 413) from None
    except (UnidentifiedImageError, OSError):
        message = "could not read the upload as an image: send PNG, JPEG or WebP"
        raise ImageRejected(message, 415) from None
    width, height = image.size
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageRejected(f"the image is {width}x{height}: {too_large}", 413)
    return image


def to_rgb(image: Image.Image) -> np.ndarray:
    """Any mode -> (H, W, 3) float32 in [0, 1]."""
    if image.mode in SIXTEEN_BIT_MODES:
        grey = np.asarray(image, dtype=np.float32) / 65535.0
        return np.repeat(grey.clip(0.0, 1.0)[..., np.newaxis], 3, axis=2)
    if image.has_transparency_data:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        return rgba[..., :3] * rgba[..., 3:]  # composited on black
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    rgb /= 255.0
    return rgb


def encode_png(frames: torch.Tensor) -> bytes:
    """(1, H, W, 3) float in [0, 1] -> PNG bytes."""
    pixels = (frames[0].clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).numpy()
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()
