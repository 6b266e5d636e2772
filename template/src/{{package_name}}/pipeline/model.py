"""The torch model: a backbone, then a colour grade per style, blended with the input.

Nothing here imports ai-runner, so the model can be tested and benchmarked on its own.
Tensors are (batch, 3, height, width) with values in [0, 1].
"""

import torch
from torch import Tensor, nn

# Rec. 601 luma weights: how much red, green and blue each contribute to brightness.
LUMA = (0.299, 0.587, 0.114)


class ColorGrade(nn.Module):
    """Maps each pixel's RGB through a 3x3 matrix plus an offset."""

    def __init__(self) -> None:
        super().__init__()
        self.matrix = nn.Parameter(torch.eye(3))
        self.offset = nn.Parameter(torch.zeros(3))

    def forward(self, frames: Tensor) -> Tensor:
        # einsum keeps the input's memory layout and is several times faster on a CPU than the
        # same sum as a 1x1 convolution over channels-last frames.
        graded = torch.einsum("oc,nchw->nohw", self.matrix, frames)
        return graded.add_(self.offset.view(1, 3, 1, 1))


class Effect(nn.Module):
    """backbone -> colour grade -> blend with the input by `strength`, clamped to [0, 1]."""

    def __init__(self, backbone: nn.Module, grade: ColorGrade) -> None:
        super().__init__()
        self.backbone = backbone
        self.grade = grade

    def forward(self, frames: Tensor, strength: float) -> Tensor:
        styled = self.grade(self.backbone(frames))
        return torch.lerp(frames, styled, strength).clamp_(0.0, 1.0)


def reference_grade(style: str) -> ColorGrade:
    """The colour grade that `prepare` saves for `style`, built from fixed numbers so that every
    machine prepares byte-identical weights."""
    luma = torch.tensor(LUMA).expand(3, 3)
    if style == "toon":
        # Saturation 1.5: push each colour away from its grey.
        matrix, offset = 1.5 * torch.eye(3) - 0.5 * luma, torch.zeros(3)
    elif style == "sepia":
        matrix = torch.tensor([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
        offset = torch.zeros(3)
    elif style == "noir":
        # Grey with more contrast: the same value in every channel.
        matrix, offset = 1.3 * luma, torch.full((3,), -0.15)
    else:
        raise ValueError(f"unknown style {style!r}")
    grade = ColorGrade()
    with torch.no_grad():
        grade.matrix.copy_(matrix)
        grade.offset.copy_(offset)
    return grade
