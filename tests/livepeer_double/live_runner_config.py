"""Static live-runner configuration of the orchestrator DOUBLE: decoding and validation.

It applies the rules of go-livepeer doc/live-runner.md ("Static runner configuration") in the
order go-livepeer does, with its error messages, so that a configuration the double accepts is
one the real orchestrator accepts. The double is OFFCHAIN only: like an offchain orchestrator it
ignores `price_info` apart from its JSON shape.

JSON is decoded like Go's encoding/json into the real structs: field names match
case-insensitively, the last duplicate wins, unknown fields are ignored, `null` leaves the
default, and a value of the wrong JSON type is an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from .go_url import has_control_byte, is_absolute_http_url

ROUTING_RUNNER_ID = "runner-id"
ROUTING_LABEL = "label"
MODE_PERSISTENT = "persistent"
MODE_SINGLE_SHOT = "single-shot"
MAX_METADATA_BYTES = 1024


class ConfigError(ValueError):
    """An invalid configuration; the message is what go-livepeer answers (HTTP 400)."""


@dataclass
class StaticRunnerEntry:
    label: str = ""
    routing: str = ""
    proxy: bool = False
    runner_url: str = ""
    version: str = ""
    metadata: str = ""
    mode: str = ""
    gpu: dict[str, Any] | None = None
    app: str = ""
    capacity: int = 0
    price_info: dict[str, Any] = field(default_factory=dict)
    health_url: str = ""
    healthy_status_code: int = 0


_ENTRY_TYPES = {
    "proxy": bool,
    "capacity": int,
    "healthy_status_code": int,
    "gpu": "gpu",
    "price_info": "price_info",
}
_GPU_TYPES = {"id": str, "name": str, "vram_mb": int}
_PRICE_TYPES = {"price": "number", "currency": str, "unit": str}


def parse_static_config(data: bytes | str) -> list[StaticRunnerEntry]:
    """Decode and normalise a `{"runners": [...]}` document (ParseStaticLiveRunnerConfig)."""
    if isinstance(data, bytes):
        # Go replaces invalid UTF-8 with U+FFFD; the metadata check then rejects it.
        data = data.decode("utf-8", errors="replace")
    try:
        document = json.loads(data, parse_float=Decimal, object_pairs_hook=_pairs)
    except json.JSONDecodeError as error:
        raise ConfigError(f"invalid JSON: {error}") from None
    if document is None:
        return []
    if not isinstance(document, _Object):
        raise ConfigError(_type_error(document, "", "runner.StaticLiveRunnerConfig"))
    runners = document.get_field("runners")
    if runners is None:
        return []
    if not isinstance(runners, list) or isinstance(runners, _Object):
        raise ConfigError(_type_error(runners, "runners", "[]runner.StaticLiveRunnerConfigEntry"))
    entries = [_decode_entry(raw) for raw in runners]
    return normalize_entries(entries)


def normalize_entries(entries: list[StaticRunnerEntry]) -> list[StaticRunnerEntry]:
    """Defaults and health URL resolution, for every entry before any is validated."""
    for index, entry in enumerate(entries):
        entry.routing = entry.routing.strip() or ROUTING_RUNNER_ID
        if entry.routing not in (ROUTING_RUNNER_ID, ROUTING_LABEL):
            raise ConfigError(
                f'runners[{index}]: routing must be "{ROUTING_RUNNER_ID}" or "{ROUTING_LABEL}"'
            )
        if entry.healthy_status_code == 0:
            entry.healthy_status_code = 200
        try:
            entry.health_url = _resolve_health_url(entry.runner_url, entry.health_url)
        except ConfigError as error:
            raise ConfigError(f"runners[{index}]: {error}") from None
    return entries


def validate_entry(entry: StaticRunnerEntry) -> None:
    """buildStaticRunner + normalizeHeartbeat (offchain). Normalises mode and capacity."""
    if not entry.label or entry.label != entry.label.strip():
        raise ConfigError("label is required and must be trimmed")
    if not entry.health_url:
        raise ConfigError("health_url is required")
    if not is_absolute_http_url(entry.health_url):
        raise ConfigError("invalid health_url")
    if not 100 <= entry.healthy_status_code <= 599:
        raise ConfigError("healthy_status_code must be a valid HTTP status code")
    if not is_absolute_http_url(entry.runner_url):
        raise ConfigError("invalid runner_url")
    if not entry.app or entry.app != entry.app.strip():
        raise ConfigError("app must be trimmed")
    validate_metadata(entry.metadata)
    entry.mode = entry.mode or MODE_PERSISTENT
    if entry.mode == "single_shot":
        entry.mode = MODE_SINGLE_SHOT
    if entry.mode not in (MODE_PERSISTENT, MODE_SINGLE_SHOT):
        raise ConfigError(f'mode must be "{MODE_PERSISTENT}" or "{MODE_SINGLE_SHOT}"')
    if entry.capacity < 0:
        raise ConfigError("capacity must be >= 0")
    if entry.capacity == 0:
        entry.capacity = 1
    # Offchain: price_info is neither validated nor advertised (go-livepeer returns early).


def validate_metadata(metadata: str) -> None:
    # Go's JSON decoder turns invalid UTF-8 and lone surrogates into U+FFFD (3 bytes each).
    if len(metadata.encode("utf-8", errors="surrogatepass")) > MAX_METADATA_BYTES:
        raise ConfigError(f"metadata must be at most {MAX_METADATA_BYTES} bytes")
    has_surrogate = any(0xD800 <= ord(char) <= 0xDFFF for char in metadata)
    if "\ufffd" in metadata or has_surrogate:
        raise ConfigError("metadata must not contain Unicode replacement character U+FFFD")


def _resolve_health_url(runner_url: str, health_url: str) -> str:
    """A root-relative health_url is appended to runner_url (staticRunnerHealthURL)."""
    if has_control_byte(health_url):
        raise ConfigError("invalid health_url")
    try:
        parts = urlsplit(health_url)
    except ValueError:
        raise ConfigError("invalid health_url") from None
    if parts.scheme or not parts.path.startswith("/") or parts.netloc:
        return health_url
    if not is_absolute_http_url(runner_url):
        raise ConfigError("invalid runner_url")
    return runner_url.rstrip("/") + health_url


class _Object(list):
    """A JSON object as its ordered key/value pairs, so duplicates and case can be handled."""

    def get_field(self, name: str) -> Any:
        value = None
        for key, item in self:  # last match wins, case-insensitively, like encoding/json
            if key.lower() == name:
                value = item
        return value


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    return _Object(pairs)


def _decode_entry(raw: Any) -> StaticRunnerEntry:
    if raw is None:
        return StaticRunnerEntry()
    if not isinstance(raw, _Object):
        raise ConfigError(_type_error(raw, "runners", "runner.StaticLiveRunnerConfigEntry"))
    entry = StaticRunnerEntry()
    for spec in fields(StaticRunnerEntry):
        value = raw.get_field(spec.name)
        if value is None:
            continue
        kind = _ENTRY_TYPES.get(spec.name, str)
        if kind == "gpu":
            value = _decode_gpu(value)
        elif kind == "price_info":
            value = _decode_object(value, _PRICE_TYPES, "runners.price_info")
        else:
            value = _check_type(value, kind, f"runners.{spec.name}")
        setattr(entry, spec.name, value)
    return entry


def _decode_gpu(value: Any) -> dict[str, Any]:
    if _is_int(value):
        # go-livepeer looks the device's name up with ghw; the double records only the index.
        return {"id": str(value)}
    return _decode_object(value, _GPU_TYPES, "runners.gpu")


def _decode_object(value: Any, types: dict[str, Any], path: str) -> dict[str, Any]:
    if not isinstance(value, _Object):
        raise ConfigError(_type_error(value, path, "object"))
    decoded: dict[str, Any] = {}
    for name, kind in types.items():
        item = value.get_field(name)
        if item is not None:
            decoded[name] = _check_type(item, kind, f"{path}.{name}")
    return decoded


def _check_type(value: Any, kind: Any, path: str) -> Any:
    if kind == "number":
        # json.Number takes a number, or a string holding one.
        if _is_int(value) or isinstance(value, Decimal):
            return str(value)
        if isinstance(value, str):
            try:
                Decimal(value)
            except ArithmeticError:
                raise ConfigError(
                    f"json: invalid number literal, trying to unmarshal "
                    f"{json.dumps(value)} into Number"
                ) from None
            return value
        raise ConfigError(_type_error(value, path, "json.Number"))
    if kind is int:
        if _is_int(value) and -(2**63) <= value < 2**63:
            return value
        raise ConfigError(_type_error(value, path, "int"))
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(_type_error(value, path, "bool"))
    if isinstance(value, str):
        return value
    raise ConfigError(_type_error(value, path, "string"))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if _is_int(value) or isinstance(value, Decimal):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list) and not isinstance(value, _Object):
        return "array"
    return "object"


def _type_error(value: Any, path: str, go_type: str) -> str:
    where = f"Go struct field StaticLiveRunnerConfig.{path}" if path else "Go value"
    return f"json: cannot unmarshal {_json_type(value)} into {where} of type {go_type}"
