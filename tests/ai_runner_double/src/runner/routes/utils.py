"""Response models shared by routes of the ai-runner v0.14.1 offline double."""

from pydantic import BaseModel, Field


class APIError(BaseModel):
    msg: str = Field(..., description="Error message.")


class HTTPError(BaseModel):
    detail: APIError = Field(..., description="Error details.")


class LiveVideoToVideoResponse(BaseModel):
    subscribe_url: str = Field(..., description="URL the runner subscribes to for input.")
    publish_url: str = Field(..., description="URL the runner publishes output to.")
    control_url: str = Field(default="", description="URL for parameter updates.")
    events_url: str = Field(default="", description="URL for status and log events.")
    request_id: str = Field(default="", description="ID of this request.")
    manifest_id: str = Field(default="", description="Orchestrator manifest ID.")


def http_error(msg: str) -> dict:
    """The JSON body ai-runner uses for errors: {"detail": {"msg": msg}}."""
    return {"detail": {"msg": msg}}
