"""ai-runner-kit: the platform around an ai-runner pipeline, so that a pipeline's repository holds
its model and little else.

For any ai-runner pipeline, live or batch (`ai-runner-kit --help`): try it on a video or images,
benchmark it, serve it as a go-livepeer live runner, stream a session through an orchestrator,
print its parameters' JSON Schema. For a pipeline's own code, these names, kept compatible
across the kit's minor releases (CHANGELOG.md says when one changes):

- `ai_runner_kit.models_dir(folder)`: a pipeline's own folder in ai-runner's MODEL_DIR, where
  `prepare_models()` writes the weights and the pipeline reads them; `model_dir_root()` is
  MODEL_DIR itself.
- `ai_runner_kit.commands.PipelineCommands(spec, name)`: a project's console scripts.
- `ai_runner_kit.specs.BatchSpec`: what ai-runner's `PipelineSpec` is to a live pipeline, for a
  batch one.
- `ai_runner_kit.live`: `TorchLivePipeline`, the base of a live torch pipeline, and the pieces
  it is made of: `InferenceWorker`, `WorkerStopped`, `model_device`, `DeviceFrames`, `Upload`,
  `check_frame`; `stream_frames`, `StreamResult`, `synthetic_frame` drive a pipeline as
  ai-runner does (its docstring says what each is).
- `ai_runner_kit.batch`: `TorchBatchPipeline`, `ModelNotReady`, `image_to_image_router` and its
  `routes` and `images` modules, `guarded_route`, `http_error`.
- `ai_runner_kit.testing`: `LivePipelineContract` and `TorchLivePipelineContract`, the contract
  tests a pipeline's project runs by subclassing them (with the kit's pytest plugin).

The benchmark and the try command reach a pipeline only through ai-runner's contract (the spec's
classes and the Pipeline interface) and two optional hooks on the Pipeline:

    def benchmark_step(self, width: int, height: int) -> Callable[[], object]:
        # After initialize() (live) or once loaded (batch): a function that runs the model once
        # on a frame of that size already on the model's device, a different frame each call
        # (a stream's frames are all new; one frame over and over stays in a CPU's cache and
        # flatters the model). Without it, the benchmark times the pipeline only.

    def benchmark_request(self, png: bytes) -> dict:  # batch only
        # Keyword arguments for httpx's `request()` that make one request (method, url, files
        # or json...). Without it: a PNG uploaded as the multipart field `image` to the
        # router's first POST route.

Everything else is internal and may change in any release.
"""

from importlib.metadata import PackageNotFoundError, version

from ai_runner_kit.model_dir import model_dir_root, models_dir

try:
    __version__ = version("ai-runner-kit")
except PackageNotFoundError:  # imported from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__", "model_dir_root", "models_dir"]
