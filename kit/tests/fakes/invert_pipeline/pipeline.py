import torch
from ai_runner_kit import models_dir
from ai_runner_kit.live import TorchLivePipeline
from runner.live.pipelines import PipelineSpec
from safetensors.torch import load_file, save_file

from .params import InvertParams

FOLDER = "invert-fake"
TINTS = {"plain": (1.0, 1.0, 1.0), "warm": (1.0, 0.9, 0.7)}


class Invert(torch.nn.Module):
    def __init__(self, tint: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("tint", tint.view(1, 3, 1, 1))

    def forward(self, frames: torch.Tensor, amount: float) -> torch.Tensor:
        return torch.lerp(frames, (1.0 - frames) * self.tint, amount)


class InvertPipeline(TorchLivePipeline):
    params_class = InvertParams

    @classmethod
    def prepare_models(cls) -> None:
        folder = models_dir(FOLDER)
        folder.mkdir(parents=True, exist_ok=True)
        for flavour, tint in TINTS.items():
            save_file({"tint": torch.tensor(tint)}, str(folder / f"{flavour}.safetensors"))

    def load_model(self, params: InvertParams) -> Invert:
        weights = load_file(str(models_dir(FOLDER) / f"{params.flavour}.safetensors"))
        return Invert(weights["tint"])

    def run_model(self, model: Invert, frames: torch.Tensor, params: InvertParams) -> torch.Tensor:
        return model(frames, params.amount)

    def needs_reload(self, loaded: InvertParams, wanted: InvertParams) -> bool:
        return wanted.flavour != loaded.flavour


pipeline_spec = PipelineSpec(
    name="invert-fake",
    pipeline_cls="invert_pipeline.pipeline:InvertPipeline",
    params_cls="invert_pipeline.params:InvertParams",
)
