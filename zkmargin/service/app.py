"""The FastAPI application: routes, write key, request size limits, per-client rate limits.

Every error is JSON ``{"error": "<one line>"}`` with a 4xx code (401 without the write key, 404
unknown epoch/holder/proof, 409 conflicts, 413 too large, 422 invalid or refused, 429 rate
limited). Bodies are read raw and validated with the project's pydantic models (strict, extra
fields forbidden; nesting deeper than pydantic's limit is a 422, never a crash). A database that
fails answers 503 (retry later): nothing was acknowledged. CPU-bound checks
(pairing, snapshot roots) run in the thread pool.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import APIKeyHeader
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zkmargin.bundle import ProofBundle
from zkmargin.errors import InputError
from zkmargin.io import parse_model
from zkmargin.models import Epoch, RiskSnapshot
from zkmargin.models.types import format_holder, holder_from_text
from zkmargin.service.policy import EpochPolicy, Refused, ServiceConfig, Verifier, proof_digest
from zkmargin.service.status import CALLED, HolderEpoch, epoch_statuses, summary
from zkmargin.service.store import MAX_EPOCH, Store

#: Largest body accepted, bytes: a proof bundle or an epoch file is about 2 KB; a snapshot ~100 KB.
MAX_BODY = 64 * 1024
MAX_SNAPSHOT_BODY = 4 * 1024 * 1024
#: Holders drawn in the dashboard's health chart (beyond that it is unreadable; the tables list all).
CHART_HOLDERS = 12
#: Clients whose rate buckets are kept (least recently seen dropped first): memory stays bounded.
MAX_CLIENTS = 10_000
WRITE_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="The service's write key (ZKMARGIN_API_KEY)")


class Guard:
    """ASGI middleware: 429 over a client's rate (``/v1/`` routes), 413 when a body exceeds its route's limit."""

    def __init__(self, app: ASGIApp, limiter: RateLimit) -> None:
        self.app, self.limiter = app, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        client = scope["client"][0] if scope.get("client") else "unknown"
        if path.startswith("/v1/") and not self.limiter.allow(client):
            await _error(429, "rate limit exceeded: slow down")(scope, receive, send)
            return
        limit = MAX_SNAPSHOT_BODY if path == "/v1/snapshots" else MAX_BODY
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(limit)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(limit)(scope, receive, send)


class _TooLarge(Exception):
    pass


def _too_large(limit: int) -> JSONResponse:
    return _error(413, f"request body larger than {limit} bytes")


class RateLimit:
    """A token bucket per client address: ``rate`` requests/s sustained, ``burst`` at once; 0 disables."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            ok = tokens >= 1.0
            self._buckets[client] = (tokens - 1.0 if ok else tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
        return ok


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def create_app(config: ServiceConfig, store: Store, api_key: str, rate: float = 50.0, burst: int = 100) -> FastAPI:
    """The service over ``store`` with ``config``'s policy; writes need header ``X-API-Key: api_key``."""
    if len(api_key) < 16:
        raise InputError("the write key (ZKMARGIN_API_KEY) must be at least 16 characters")
    verifier = Verifier(config)
    limiter = RateLimit(rate, burst)
    app = FastAPI(title="zkmargin verification service", version="1",
                  description="Margin proofs in, margin status out. Writes need the `X-API-Key` header.")
    app.add_middleware(Guard, limiter=limiter)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, e: StarletteHTTPException) -> JSONResponse:
        return _error(e.status_code, str(e.detail))

    @app.exception_handler(SQLAlchemyError)
    async def database_error(_request: Request, e: SQLAlchemyError) -> JSONResponse:
        return _error(503, f"database unavailable: {type(e).__name__}; retry later")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0]
        return _error(422, f"{'.'.join(map(str, first['loc']))}: {first['msg']}")

    def authorize(key: str | None) -> None:
        if key is None or not hmac.compare_digest(key.encode(), api_key.encode()):
            raise HTTPException(401, "writes need the service's key in the X-API-Key header")

    def refuse(request: Request, raw: bytes, e: Refused) -> JSONResponse:
        store.reject(_client(request), request.url.path, str(e), raw, e.digest)
        return _error(e.status, str(e))

    def epoch_policy(epoch: int) -> EpochPolicy:
        """The cached policy of ``epoch``, rebuilt from the database after a restart."""
        entry = verifier.policy(epoch)
        if entry is not None:
            return entry
        row = store.epoch_row(epoch) if 0 <= epoch <= MAX_EPOCH else None
        if row is None:
            raise Refused(f"epoch {epoch} has not been posted by the venue", 409)
        if row.snapshot is None:
            raise Refused(f"the snapshot of epoch {epoch} has not been posted", 409)
        return verifier.check_snapshot(parse_model(RiskSnapshot, row.snapshot, source="stored snapshot"),
                                       parse_model(Epoch, row.body, source="stored epoch"))

    def post_proof(raw: bytes, client: str) -> tuple[int, dict[str, Any]]:
        bundle = verifier.parse_bundle(raw)
        stored = store.has_proof(proof_digest(bundle))
        if stored is None:
            stored = verifier.check_proof(bundle, epoch_policy(bundle.epoch))
            created = store.add_proof(stored, bundle.circuit_id, client, raw.decode())
        else:
            created = False
        return (201 if created else 200), {
            "digest": stored.digest, "epoch": stored.epoch, "holder": stored.holder,
            "threshold_bps": stored.threshold_bps, "required_bps": stored.required_bps,
            "status": "healthy" if stored.meets else "margin_call", "duplicate": not created}

    def post_epoch(raw: bytes) -> tuple[int, dict[str, Any]]:
        epoch = verifier.check_epoch(raw)
        if epoch.epoch > MAX_EPOCH:
            raise Refused(f"epoch {epoch.epoch}: this service stores epochs up to 2^63 - 1")
        body = epoch.model_dump_json()
        created = store.add_epoch(epoch.epoch, epoch.venue, str(epoch.account_root), epoch.accounts, body,
                                  config.window_s)
        row = store.epoch_row(epoch.epoch)
        if not created and row.body != body:
            raise Refused(f"epoch {epoch.epoch} was already posted with different content; the first posting stands",
                          409)
        return (201 if created else 200), {"epoch": epoch.epoch, "deadline": row.deadline, "duplicate": not created}

    def post_snapshot(raw: bytes) -> tuple[int, dict[str, Any]]:
        snapshot = parse_model(RiskSnapshot, raw, source="snapshot")
        row = store.epoch_row(snapshot.epoch) if 0 <= snapshot.epoch <= MAX_EPOCH else None
        if row is None:
            raise Refused(f"post the venue's epoch {snapshot.epoch} before its snapshot", 409)
        entry = verifier.check_snapshot(snapshot, parse_model(Epoch, row.body, source="stored epoch"))
        store.set_snapshot(snapshot.epoch, raw.decode())
        return 200, {"epoch": snapshot.epoch, "profiles": sorted(entry.roots)}

    async def write(request: Request, handle: Callable[[bytes], tuple[int, dict[str, Any]]]) -> JSONResponse:
        raw = await request.body()
        try:
            status, body = await run_in_threadpool(handle, raw)
        except InputError as e:
            return await run_in_threadpool(refuse, request, raw, e if isinstance(e, Refused) else Refused(str(e)))
        except UnicodeDecodeError:
            return await run_in_threadpool(refuse, request, raw, Refused("body is not UTF-8 text"))
        return JSONResponse(body, status_code=status)

    @app.post("/v1/proofs", status_code=201, openapi_extra=_body(ProofBundle),
              summary="Submit a proof bundle: verified, stored once, its holder's status updated")
    async def submit_proof(request: Request, key: str | None = Security(WRITE_KEY)) -> JSONResponse:
        authorize(key)
        return await write(request, lambda raw: post_proof(raw, _client(request)))

    @app.post("/v1/epochs", status_code=201, openapi_extra=_body(Epoch),
              summary="Post the venue's signed epoch.json (signature checked)")
    async def submit_epoch(request: Request, key: str | None = Security(WRITE_KEY)) -> JSONResponse:
        authorize(key)
        return await write(request, post_epoch)

    @app.post("/v1/snapshots", openapi_extra=_body(RiskSnapshot),
              summary="Post an epoch's public snapshot (its roots checked against the signed ones)")
    async def submit_snapshot(request: Request, key: str | None = Security(WRITE_KEY)) -> JSONResponse:
        authorize(key)
        return await write(request, post_snapshot)

    def statuses(epoch: int) -> list[HolderEpoch]:
        row = store.epoch_row(epoch) if 0 <= epoch <= MAX_EPOCH else None
        if row is None:
            raise HTTPException(404, f"epoch {epoch} has not been posted")
        return epoch_statuses(epoch, row.deadline, store.best_thresholds(epoch), config.registry, time.time())

    def current_epoch() -> int | None:
        ids = store.epoch_ids()
        return ids[-1] if ids else None

    @app.get("/v1/epochs/{epoch}", summary="Counts of an epoch: proved, missing, below requirement")
    def get_epoch(epoch: int) -> dict[str, Any]:
        s = statuses(epoch)
        return {"epoch": epoch, "deadline": s[0].deadline, **summary(s)}

    @app.get("/v1/holders/{holder}", summary="A registered holder's status per epoch")
    def get_holder(holder: str) -> dict[str, Any]:
        try:
            name = format_holder(holder_from_text(holder))
        except ValueError as e:
            raise HTTPException(422, f"holder {holder[:80]!r}: {e}") from None
        if name not in config.registry:
            raise HTTPException(404, f"holder {name} is not registered with this service")
        rows = [x for e in store.epoch_ids() for x in statuses(e) if x.holder == name]
        return {"holder": name, "required_bps": config.registry[name], "epochs": [x.as_json() for x in rows]}

    @app.get("/v1/margin-calls", summary="Holders in margin call (below requirement or late) in the current epoch")
    def margin_calls() -> dict[str, Any]:
        epoch = current_epoch()
        calls = [] if epoch is None else [x.as_json() for x in statuses(epoch) if x.status in CALLED]
        return {"epoch": epoch, "margin_calls": calls}

    @app.get("/v1/proofs/{digest}", summary="A stored proof's verdict, by digest")
    def get_proof(digest: str) -> dict[str, Any]:
        stored = store.has_proof(digest[:64])
        if stored is None:
            raise HTTPException(404, f"no proof with digest {digest[:64]}")
        return {"digest": stored.digest, "epoch": stored.epoch, "holder": stored.holder,
                "threshold_bps": stored.threshold_bps, "required_bps": stored.required_bps, "meets": stored.meets}

    @app.get("/", response_class=HTMLResponse, summary="The risk desk's dashboard")
    def dashboard() -> HTMLResponse:
        from zkmargin.service.dashboard import render

        epoch = current_epoch()
        now = statuses(epoch) if epoch is not None else []
        # the chart follows the holders in margin call first, then the others, up to CHART_HOLDERS lines
        charted = sorted(now, key=lambda x: x.status not in CALLED)[:CHART_HOLDERS]
        history = store.histories([x.holder for x in charted])
        return HTMLResponse(render(epoch, now, history, config.registry, time.time()))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (ProofBundle, Epoch, RiskSnapshot):
                js = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(js.pop("$defs", {}))
                components[model.__name__] = js
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _body(model: type[Any]) -> dict[str, Any]:
    """OpenAPI request body of a route that reads ``model`` as raw JSON."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}

