"""Live-runner registry of the orchestrator DOUBLE (static runners, offchain, no payments).

State and rules follow go-livepeer's doc/live-runner.md and what its registry does: runners are
looked up by their *route* (the label when `routing` is "label", else the generated runner ID),
unhealthy runners answer 404 "runner not found", a runner turning unhealthy loses its sessions,
and a released session closes its trickle channels and proxies. Everything runs on one asyncio
loop; the methods without `await` are therefore atomic, like the real registry's locked sections.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import aiohttp

from .go_url import is_absolute_http_url, join_url
from .live_runner_config import (
    MODE_SINGLE_SHOT,
    ROUTING_LABEL,
    ConfigError,
    StaticRunnerEntry,
    normalize_entries,
    validate_entry,
)
from .trickle_server import TrickleServerDouble

log = logging.getLogger("livepeer_double.registry")

HEALTH_TIMEOUT_SECONDS = 3.0
TRICKLE_PATH = "/ai/trickle/"
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9_-]+")


class RunnerError(Exception):
    """An expected failure with the status and message go-livepeer answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def random_id(length_bytes: int) -> str:
    # The real IDs and secrets are lower-case unpadded base32 of random bytes.
    raw = base64.b32encode(secrets.token_bytes(length_bytes)).decode()
    return raw.rstrip("=").lower()


@dataclass
class Session:
    session_id: str
    token: str
    created_at: float = field(default_factory=time.monotonic)
    channels: dict[str, dict[str, str]] = field(default_factory=dict)
    proxies: dict[str, str] = field(default_factory=dict)  # proxy ID -> target URL


@dataclass
class Runner:
    runner_id: str
    entry: StaticRunnerEntry
    route: str = ""
    status: str = "unavailable"
    sessions: dict[str, Session] = field(default_factory=dict)
    removed: bool = False

    @property
    def ready(self) -> bool:
        return self.status in ("", "ready")


class LiveRunnerRegistry:
    def __init__(self, trickle: TrickleServerDouble, service_url: str = "http://unbound") -> None:
        self.trickle = trickle
        self.runners: dict[str, Runner] = {}  # by route
        self._http: aiohttp.ClientSession | None = None
        self._registering = asyncio.Lock()
        # Test-only, and only in the double: lets a test prove a runner never logs a token.
        self.log_session_tokens = False
        self.set_addresses(service_url)

    def set_addresses(
        self,
        service_url: str,
        live_runner_url: str | None = None,
        proxy_url_template: str | None = None,
    ) -> None:
        """-serviceAddr, -liveRunnerAddr (defaults to it) and -liveRunnerProxyUrl."""
        self.service_url = service_url
        self.live_runner_url = live_runner_url or service_url
        self.proxy_template = ProxyURLTemplate(
            proxy_url_template or service_url.rstrip("/") + "/run/{proxy}"
        )

    def trickle_base(self, address: str) -> str:
        """Channels live on the embedded trickle double, or on an external trickle server."""
        external = getattr(self.trickle, "base_url", None)
        return external or join_url(address, TRICKLE_PATH)

    async def close(self) -> None:
        for runner in list(self.runners.values()):
            for session_id in list(runner.sessions):
                self._release(runner, session_id)
        if self._http is not None:
            await self._http.close()

    # Static registration (RegisterStaticRunners)

    async def register_static(self, entries: list[StaticRunnerEntry]) -> dict:
        try:
            entries = normalize_entries(entries)
        except ConfigError as error:
            raise RunnerError(400, str(error)) from None
        healthy: list[bool] = []
        seen_labels: set[str] = set()
        for index, entry in enumerate(entries):
            try:
                validate_entry(entry)
            except ConfigError as error:
                raise RunnerError(400, f"runners[{index}]: {error}") from None
            if entry.label in seen_labels:
                raise RunnerError(400, f'runners[{index}]: duplicate label "{entry.label}"')
            if entry.routing == ROUTING_LABEL and "/" in entry.label:
                raise RunnerError(
                    400, f'runners[{index}]: label cannot contain / when routing is "label"'
                )
            seen_labels.add(entry.label)
            healthy.append(await self.is_healthy(entry.health_url, entry.healthy_status_code))
        async with self._registering:
            return {
                "runners": [self._upsert(e, ok) for e, ok in zip(entries, healthy, strict=True)]
            }

    def _upsert(self, entry: StaticRunnerEntry, healthy: bool) -> dict:
        runner = next(
            (r for r in self.runners.values() if not r.removed and r.entry.label == entry.label),
            None,
        )
        if runner is None:
            runner = Runner(runner_id="runner_" + random_id(5), entry=entry)
            while any(r.runner_id == runner.runner_id for r in self.runners.values()):
                runner.runner_id = "runner_" + random_id(5)
            log.info("static live runner registered %s (%s)", runner.runner_id, entry.label)
        runner.entry = entry
        runner.status = "ready" if healthy else "unavailable"
        if not healthy:
            for session_id in list(runner.sessions):
                self._release(runner, session_id)
        route = entry.label if entry.routing == ROUTING_LABEL else runner.runner_id
        if runner.route and runner.route != route:
            self.runners.pop(runner.route, None)  # the route changed: re-add under the new one
        runner.route = route
        self.runners[route] = runner
        registration = {
            "runner_id": runner.runner_id,
            "label": entry.label,
            "app": entry.app,
            "proxy": entry.proxy,
            "runner_url": entry.runner_url,
            "mode": entry.mode,
            "health_url": entry.health_url,
            "healthy_status_code": entry.healthy_status_code,
            "healthy": healthy,
        }
        # Go's omitempty drops these when empty/false.
        return {k: v for k, v in registration.items() if v or k not in ("label", "proxy", "mode")}

    # Health

    async def is_healthy(self, health_url: str, healthy_status: int) -> bool:
        if self._http is None:
            timeout = aiohttp.ClientTimeout(total=HEALTH_TIMEOUT_SECONDS)
            self._http = aiohttp.ClientSession(timeout=timeout)
        try:
            async with self._http.get(health_url) as response:
                return response.status == healthy_status
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return False

    async def check_health(self) -> None:
        runners = [r for r in self.runners.values() if not r.removed]
        results = await asyncio.gather(
            *(self.is_healthy(r.entry.health_url, r.entry.healthy_status_code) for r in runners)
        )
        for runner, healthy in zip(runners, results, strict=True):
            previous = runner.status
            runner.status = "ready" if healthy else "unavailable"
            if not healthy:
                for session_id in list(runner.sessions):
                    self._release(runner, session_id)
            if runner.status != previous:
                log.info("static live runner %s is now %s", runner.route, runner.status)

    async def health_loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.check_health()

    # Lookups

    def runner(self, route: str) -> Runner:
        runner = self.runners.get(route)
        if runner is None or runner.removed:
            raise RunnerError(404, "runner not found")
        return runner

    def ready_runner(self, route: str) -> Runner:
        runner = self.runner(route)
        if not runner.ready:
            raise RunnerError(404, "runner not found")
        return runner

    def session(self, route: str, session_id: str) -> tuple[Runner, Session]:
        runner = self.ready_runner(route)
        session = runner.sessions.get(session_id)
        if session is None:
            raise RunnerError(404, "runner session not found")
        return runner, session

    def check_token(self, route: str, session_id: str, token: str) -> Session:
        _, session = self.session(route, session_id)
        if not secrets.compare_digest(token.encode(), session.token.encode()):
            raise RunnerError(401, "invalid authorization")
        return session

    # Sessions

    def reserve(self, route: str) -> tuple[Runner, Session, str]:
        """Reserve capacity; return the runner, the session and its app URL."""
        runner = self.ready_runner(route)
        if len(runner.sessions) >= runner.entry.capacity:
            raise RunnerError(503, "no capacity available for runner")
        session_id = "session_" + random_id(5)
        while session_id in runner.sessions:
            session_id = "session_" + random_id(5)
        session = Session(session_id=session_id, token=random_id(32))
        if self.log_session_tokens:
            log.warning("issued session token %s for session %s", session.token, session_id)
        if runner.entry.mode == MODE_SINGLE_SHOT:
            app_url = runner.entry.runner_url  # private: used only to forward the one request
        elif runner.entry.proxy:
            app_url = self.create_proxy(runner, session, "")["url"]
        else:
            app_url = join_url(self.service_url, "apps", runner.route, "session", session_id, "app")
        runner.sessions[session_id] = session
        log.info("live runner session reserved %s/%s", runner.route, session_id)
        return runner, session, app_url

    def release(self, route: str, session_id: str) -> None:
        # Like the real registry: an unknown session of a known runner is not an error.
        self._release(self.runner(route), session_id)

    def _release(self, runner: Runner, session_id: str) -> None:
        session = runner.sessions.pop(session_id, None)
        if session is None:
            return
        for channel in session.channels.values():
            self.trickle.close_channel(channel["channel_name"])
        session.channels.clear()
        session.proxies.clear()
        log.info("live runner session released %s/%s", runner.route, session_id)

    # Trickle channels

    def create_channel(self, route: str, session_id: str, name: str, mime_type: str) -> dict:
        name, channel_name = normalize_channel_name(session_id, name)
        if not mime_type.strip():
            mime_type = "application/octet-stream"
        _, session = self.session(route, session_id)
        if name in session.channels:
            return session.channels[name]
        self.trickle.create_channel(channel_name, mime_type)
        descriptor = {
            "name": name,
            "channel_name": channel_name,
            "url": join_url(self.trickle_base(self.service_url), channel_name),
            "internal_url": join_url(self.trickle_base(self.live_runner_url), channel_name),
            "mime_type": mime_type,
        }
        session.channels[name] = descriptor
        return descriptor

    def delete_channel(self, route: str, session_id: str, name: str) -> None:
        name, _ = normalize_channel_name(session_id, name)
        _, session = self.session(route, session_id)
        descriptor = session.channels.get(name)
        if descriptor is None:
            raise RunnerError(404, "trickle channel not found")
        self.trickle.close_channel(descriptor["channel_name"])
        del session.channels[name]

    # Session proxies (the path form of -liveRunnerProxyUrl only)

    def create_proxy(self, runner: Runner, session: Session, target_url: str) -> dict:
        runner_host = urlsplit(runner.entry.runner_url).hostname or ""
        target = runner.entry.runner_url
        if target_url.strip():
            target = target_url.strip()
            if not is_absolute_http_url(target):
                raise RunnerError(400, "target_url must be an absolute URL")
            if urlsplit(target).fragment:
                raise RunnerError(400, "target_url must not include a fragment")
            if (urlsplit(target).hostname or "").lower() != runner_host.lower():
                raise RunnerError(
                    400, "target_url hostname must match registered runner_url hostname"
                )
        proxy_id = random_id(16)
        session.proxies[proxy_id] = target
        return {"proxy_id": proxy_id, "url": self.proxy_template.url(proxy_id)}

    def resolve_proxy(self, host: str, path: str):
        """(runner, session, target URL, app path), or (single-shot route, app path), or None."""
        match = self.proxy_template.match(host, path)
        if match is None:
            return None
        proxy_id, app_path = match
        for runner in self.runners.values():
            if runner.removed or not runner.ready:
                continue
            for session in runner.sessions.values():
                if proxy_id in session.proxies:
                    return runner, session, session.proxies[proxy_id], app_path
        runner = self.runners.get(proxy_id)
        if runner and not runner.removed and runner.entry.proxy:
            if runner.entry.mode == MODE_SINGLE_SHOT:
                return proxy_id, app_path  # served as /apps/{proxy_id}/app/{app_path}
        raise RunnerError(404, "live runner proxy not found")

    # Discovery

    def discovery_runners(self) -> list[dict]:
        found = []
        for runner in self.runners.values():
            if runner.removed or not runner.ready:
                continue
            entry = runner.entry
            if entry.mode == MODE_SINGLE_SHOT and entry.proxy:
                url = self.proxy_template.url(runner.route)
            elif entry.mode == MODE_SINGLE_SHOT:
                url = join_url(self.service_url, "apps", runner.route, "app")
            else:
                url = join_url(self.service_url, "apps", runner.route, "session")
            item: dict = {"url": url}
            if entry.gpu is not None:
                item["gpu"] = {k: v for k, v in entry.gpu.items() if v}
            item["app"] = entry.app
            for key in ("version", "metadata", "mode"):
                if getattr(entry, key):
                    item[key] = getattr(entry, key)
            item["capacity"] = entry.capacity
            item["capacity_used"] = len(runner.sessions)
            item["capacity_available"] = entry.capacity - len(runner.sessions)
            found.append(item)  # offchain: no price_info
        return found


def normalize_channel_name(session_id: str, name: str) -> tuple[str, str]:
    name = name.strip().replace("/", "-")
    if not name:
        raise RunnerError(400, "trickle channel name is required")
    if not _CHANNEL_NAME.fullmatch(name):
        raise RunnerError(
            400, "trickle channel name may only contain alphanumerics, underscores, or hyphens"
        )
    return name, f"{session_id}-{name}"


class ProxyURLTemplate:
    """-liveRunnerProxyUrl, path form only: `http(s)://host[:port]/prefix/{proxy}`."""

    def __init__(self, raw: str) -> None:
        if raw.count("{proxy}") != 1:
            raise ValueError("live runner proxy url must contain exactly one {proxy} placeholder")
        parts = urlsplit(raw.replace("{proxy}", "proxy-placeholder"))
        if not is_absolute_http_url(parts.geturl()):
            raise ValueError("live runner proxy url must be an absolute URL")
        if "proxy-placeholder" in parts.netloc:
            raise ValueError("the double supports only the path form of the proxy url template")
        prefix, _, rest = parts.path.partition("proxy-placeholder")
        if not prefix.endswith("/") or rest not in ("", "/"):
            raise ValueError(
                "live runner proxy url path placeholder must be the final path segment"
            )
        self.raw = raw
        self.host = parts.netloc.lower()
        self.path_prefix = prefix

    def url(self, proxy_id: str) -> str:
        return self.raw.replace("{proxy}", quote(proxy_id, safe=""), 1)

    def match(self, host: str, path: str) -> tuple[str, str] | None:
        if host.lower() != self.host or not path.startswith(self.path_prefix):
            return None
        rest = path[len(self.path_prefix) :]
        proxy_id, _, app_path = rest.partition("/")
        return (proxy_id, app_path) if proxy_id else None
