from typing import Literal

from pydantic import Field
from runner.live.pipelines import BaseParams


class InvertParams(BaseParams):
    amount: float = Field(default=1.0, ge=0.0, le=1.0)
    flavour: Literal["plain", "warm"] = "plain"  # a flavour is a set of weights: it reloads
