"""A one-picture summary of a try run (`<name>-try`): inputs above the outputs they became, at a
few moments spread over the whole run, each column labelled with its time or image name.

The run's length is not known in advance (a camera), so samples are kept at a stride that
doubles whenever there are too many: memory stays small and the samples stay evenly spread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

COLUMNS = 6
THUMB_HEIGHT = 192
LABEL_HEIGHT = 24
GAP = 4
BACKGROUND = (24, 24, 24)


@dataclass
class Sample:
    label: str
    input: Image.Image
    output: Image.Image


def thumbnail(rgb: np.ndarray) -> Image.Image:
    image = Image.fromarray(rgb)
    width = max(1, round(image.width * THUMB_HEIGHT / image.height))
    return image.resize((width, THUMB_HEIGHT), Image.Resampling.BILINEAR)


class ContactSheet:
    def __init__(self, columns: int = COLUMNS) -> None:
        self.columns = columns
        self._samples: list[Sample] = []
        self._stride = 1
        self._seen = 0

    def add(self, label: str, input_rgb: np.ndarray, output_rgb: np.ndarray) -> None:
        if self._seen % self._stride == 0:
            self._samples.append(Sample(label, thumbnail(input_rgb), thumbnail(output_rgb)))
            if len(self._samples) > 2 * self.columns:
                self._samples = self._samples[::2]
                self._stride *= 2
        self._seen += 1

    def chosen(self) -> list[Sample]:
        """At most `columns` samples, evenly spread, the first and the last included."""
        samples = self._samples
        if len(samples) <= self.columns:
            return samples
        last = len(samples) - 1
        picks = sorted({round(i * last / (self.columns - 1)) for i in range(self.columns)})
        return [samples[i] for i in picks]

    def save(self, path: Path) -> bool:
        """Write the PNG; False (and no file) when there was nothing to show."""
        samples = self.chosen()
        if not samples:
            return False
        width = sum(max(s.input.width, s.output.width) for s in samples) + GAP * (len(samples) + 1)
        height = LABEL_HEIGHT + 2 * THUMB_HEIGHT + 3 * GAP
        sheet = Image.new("RGB", (width, height), BACKGROUND)
        draw = ImageDraw.Draw(sheet)
        font = ImageFont.load_default(size=14)
        left = GAP
        for sample in samples:
            draw.text((left, 4), sample.label, fill=(230, 230, 230), font=font)
            sheet.paste(sample.input, (left, LABEL_HEIGHT + GAP))
            sheet.paste(sample.output, (left, LABEL_HEIGHT + 2 * GAP + THUMB_HEIGHT))
            left += max(sample.input.width, sample.output.width) + GAP
        path.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(path)
        return True
