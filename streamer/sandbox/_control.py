"""The control API under ``/_sandbox/``: how a test in another process drives and reads the
sandbox. No key is needed (it is loopback test tooling); nothing here is counted, logged, held,
faulted or banned. Every body in and out is JSON.

=========================== =====================================================================
GET  /_sandbox/health       ``{"ok": true}``
GET  /_sandbox/stats        counters (``SandboxState.stats()``)
GET  /_sandbox/activities   ``{"total", "items"}``; ``?offset=&limit=`` and any other parameter
                            filters on a top-level field (``?event=Signed%20Up&user_id=u1``)
GET  /_sandbox/contacts     every accepted contact item, same parameters
GET  /_sandbox/profiles     ``{"total", "profiles": {identity: profile}}`` (the upsert view)
GET  /_sandbox/audiences    ``{"audiences": [{"id", "name", "members"}]}``
POST /_sandbox/audiences    ``{"name"}`` -> ``{"id", "name"}`` (find or create, as /v1 does)
GET  /_sandbox/requests     ``{"requests": [...]}`` the request log; ``?limit=N`` the last N
GET  /_sandbox/intake       what the lean intake recorded (``IntakeReport``); 400 with the full
GET  /_sandbox/faults       the plan's rules with ``fired`` and ``remaining``
POST /_sandbox/faults       a plan ``{"seed", "rules": [...]}`` (or a list of rules) replaces the
                            current one; its schedule starts now. 400 names what is invalid
DELETE /_sandbox/faults     no faults
POST /_sandbox/reset        ``{"audiences": false}`` back to the start-up configuration
POST /_sandbox/hold         ``{"count": 1, "endpoints": ["track"]}`` hold the next requests
POST /_sandbox/release      ``{"count": null}`` let held requests go -> ``{"released": n}``
GET  /_sandbox/held         ``{"held", "armed", "endpoints"}``; ``?count=N&timeout=S`` waits up
                            to S seconds until N requests are held (``"reached"`` says if so)
POST /_sandbox/key          ``{"key": "pau-...", "valid": false}`` refuse (or accept) a key
POST /_sandbox/settings     any of ``{"ban": bool | {"enabled", "threshold", "window",
                            "duration"}, "partial_status": 200 | 207, "max_items",
                            "max_body_bytes"}`` -> the settings now in force
=========================== =====================================================================
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError

from ._gate import BanPolicy
from ._state import SandboxState

__all__ = ["add_control_routes"]

_PAGING = frozenset({"offset", "limit"})


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


class _BadControl(Exception):
    pass


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _BadControl(f"body is not valid JSON: {exc}") from None
    if type(body) is not dict:
        raise _BadControl("body must be a JSON object")
    return body


def _int_param(request: web.Request, name: str, default: int | None) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise _BadControl(f"{name}: must be an integer") from None


def _page(request: web.Request, items: list[dict[str, Any]]) -> dict[str, Any]:
    filters = {name: value for name, value in request.query.items() if name not in _PAGING}
    if filters:
        items = [
            item
            for item in items
            if all(str(item.get(name)) == value for name, value in filters.items())
        ]
    offset = _int_param(request, "offset", 0) or 0
    limit = _int_param(request, "limit", None)
    end = None if limit is None else offset + limit
    return {"total": len(items), "items": items[offset:end]}


class _Control:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    async def health(self, request: web.Request) -> web.Response:
        return _json({"ok": True})

    async def stats(self, request: web.Request) -> web.Response:
        return _json(self.state.stats())

    async def activities(self, request: web.Request) -> web.Response:
        return _json(_page(request, self.state.activities))

    async def contacts(self, request: web.Request) -> web.Response:
        return _json(_page(request, self.state.contacts))

    async def profiles(self, request: web.Request) -> web.Response:
        profiles = self.state.profiles
        return _json({"total": len(profiles), "profiles": profiles})

    async def audiences(self, request: web.Request) -> web.Response:
        return _json({"audiences": self.state.audiences})

    async def create_audience(self, request: web.Request) -> web.Response:
        name = (await _body(request)).get("name")
        if type(name) is not str or not name.strip():
            raise _BadControl("name: must be a non-empty string")
        audience, _ = self.state.find_or_create_audience(name)
        return _json(audience)

    async def requests(self, request: web.Request) -> web.Response:
        log = self.state.requests
        limit = _int_param(request, "limit", None)
        return _json({"requests": log if limit is None else log[-limit:] if limit else []})

    async def intake(self, request: web.Request) -> web.Response:
        report = self.state.intake_report()
        if report is None:
            raise _BadControl("the sandbox runs the full intake: start it with intake lean")
        return _json(report)

    async def faults(self, request: web.Request) -> web.Response:
        return _json({"rules": self.state.faults.describe()})

    async def set_faults(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            self.state.set_faults(orjson.loads(raw) if raw.strip() else None)
        except orjson.JSONDecodeError as exc:
            raise _BadControl(f"body is not valid JSON: {exc}") from None
        except ValidationError as exc:
            raise _BadControl(f"invalid fault plan: {exc}") from None
        return _json({"rules": self.state.faults.describe()})

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.state.clear_faults()
        return _json({"rules": []})

    async def reset(self, request: web.Request) -> web.Response:
        self.state.reset(audiences=bool((await _body(request)).get("audiences", False)))
        return _json({"ok": True})

    async def hold(self, request: web.Request) -> web.Response:
        body = await _body(request)
        count = body.get("count", 1)
        endpoints = body.get("endpoints")
        if type(count) is not int or count < 1:
            raise _BadControl("count: must be a positive integer")
        if endpoints is not None and (
            type(endpoints) is not list or not all(type(e) is str for e in endpoints)
        ):
            raise _BadControl("endpoints: must be a list of endpoint names")
        self.state.hold(count, endpoints)
        return await self._held_view()

    async def release(self, request: web.Request) -> web.Response:
        count = (await _body(request)).get("count")
        if count is not None and (type(count) is not int or count < 0):
            raise _BadControl("count: must be a non-negative integer or null")
        return _json({"released": self.state.release(count)})

    async def held(self, request: web.Request) -> web.Response:
        count = _int_param(request, "count", None)
        try:
            timeout = float(request.query.get("timeout", "10"))
        except ValueError:
            raise _BadControl("timeout: must be a number of seconds") from None
        if count is not None:
            deadline = time.monotonic() + timeout
            while self.state.held < count and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
        return await self._held_view(count)

    async def _held_view(self, count: int | None = None) -> web.Response:
        holds = self.state.holds
        view: dict[str, Any] = {
            "held": holds.held,
            "armed": holds.armed,
            "endpoints": holds.held_endpoints,
        }
        if count is not None:
            view["reached"] = holds.held >= count
        return _json(view)

    async def key(self, request: web.Request) -> web.Response:
        body = await _body(request)
        key, valid = body.get("key"), body.get("valid", True)
        if type(key) is not str or not key:
            raise _BadControl("key: must be a non-empty string")
        if type(valid) is not bool:
            raise _BadControl("valid: must be a boolean")
        self.state.set_key_valid(key, valid)
        return _json({"valid": valid})

    async def settings(self, request: web.Request) -> web.Response:
        body = await _body(request)
        state = self.state
        if "ban" in body:
            ban = body["ban"]
            if type(ban) is bool:
                state.set_ban(ban)
            elif type(ban) is dict:
                try:
                    state.set_ban(BanPolicy(**ban))
                except TypeError as exc:
                    raise _BadControl(f"ban: {exc}") from None
            else:
                raise _BadControl("ban: must be a boolean or an object")
        if "partial_status" in body:
            if body["partial_status"] not in (200, 207):
                raise _BadControl("partial_status: must be 200 or 207")
            state.partial_status = body["partial_status"]
        for name in ("max_items", "max_body_bytes"):
            if name in body:
                if type(body[name]) is not int or body[name] < 1:
                    raise _BadControl(f"{name}: must be a positive integer")
                setattr(state, name, body[name])
        policy = state.bans.policy
        return _json(
            {
                "ban": {
                    "enabled": policy.enabled,
                    "threshold": policy.threshold,
                    "window": policy.window,
                    "duration": policy.duration,
                },
                "partial_status": state.partial_status,
                "max_items": state.max_items,
                "max_body_bytes": state.max_body_bytes,
            }
        )


@web.middleware
async def _control_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except _BadControl as exc:
        return _json({"error": {"code": "bad-request", "message": str(exc)}}, 400)
    return response


def add_control_routes(app: web.Application, state: SandboxState) -> None:
    """Mount the control API on ``app`` (a sub-application at ``/_sandbox``)."""
    control = _Control(state)
    sub = web.Application(middlewares=[_control_errors])
    sub.add_routes(
        [
            web.get("/health", control.health),
            web.get("/stats", control.stats),
            web.get("/activities", control.activities),
            web.get("/contacts", control.contacts),
            web.get("/profiles", control.profiles),
            web.get("/audiences", control.audiences),
            web.post("/audiences", control.create_audience),
            web.get("/requests", control.requests),
            web.get("/intake", control.intake),
            web.get("/faults", control.faults),
            web.post("/faults", control.set_faults),
            web.delete("/faults", control.clear_faults),
            web.post("/reset", control.reset),
            web.post("/hold", control.hold),
            web.post("/release", control.release),
            web.get("/held", control.held),
            web.post("/key", control.key),
            web.post("/settings", control.settings),
        ]
    )
    app.add_subapp("/_sandbox/", sub)
