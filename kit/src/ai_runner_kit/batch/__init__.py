"""The kit's side of a batch pipeline. Public:

- `TorchBatchPipeline`: ai-runner's batch `Pipeline` around a torch model; a subclass writes
  `name`, `params_class`, `prepare_models`, `load_model()`, `run_model(model, images, params)`
  and its `router` (ai_runner_kit.batch.pipeline says how each is called). `ModelNotReady` is
  what calling it raises while the model loads or after loading failed.
- `image_to_image_router(pipeline, path, params_class)`: the HTTP API of an image-to-image
  pipeline, as a PNG upload with the params as form fields and as base64 JSON; `routes` is its
  module, with its limits (MAX_ACTIVE, MAX_WAITING, MAX_BODY_BYTES). `images` decodes uploads,
  checking them before any pixel is decoded, and encodes PNGs.
- `guarded_route(max_active, max_waiting, max_body_bytes)`: a route class for a pipeline's
  APIRouter that bounds memory (bodies over the limit get 413 unread; requests past
  `max_active` working and `max_waiting` waiting get 503 with Retry-After), and
  `http_error(status, message)`, which answers as ai-runner's routes do.
"""

from ai_runner_kit.batch import images, routes
from ai_runner_kit.batch.http_guard import guarded_route, http_error
from ai_runner_kit.batch.pipeline import ModelNotReady, TorchBatchPipeline
from ai_runner_kit.batch.routes import image_to_image_router

__all__ = [
    "ModelNotReady",
    "TorchBatchPipeline",
    "guarded_route",
    "http_error",
    "image_to_image_router",
    "images",
    "routes",
]
