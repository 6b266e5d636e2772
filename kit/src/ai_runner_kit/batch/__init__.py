"""The kit's side of a batch pipeline. Public: `guarded_route(max_active, max_waiting,
max_body_bytes)`, a route class for a pipeline's APIRouter that bounds memory (bodies over the
limit get 413 unread; requests past `max_active` working and `max_waiting` waiting get 503 with
Retry-After), and `http_error(status, message)`, which answers as ai-runner's routes do."""

from ai_runner_kit.batch.http_guard import guarded_route, http_error

__all__ = ["guarded_route", "http_error"]
