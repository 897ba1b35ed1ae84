"""The Litestar application factory."""

from __future__ import annotations

from typing import Any, cast

from litestar import Controller, Litestar, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ServiceUnavailableException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins.problem_details import ProblemDetailsPlugin
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from valorize_core.app import Valorize
from valorize_entrypoints.api.auth import provide_actor, provide_writer
from valorize_entrypoints.api.body_limits import JsonBodyGuardMiddleware, StrictJsonBodyMiddleware
from valorize_entrypoints.api.controllers.accounts import AccountController, CategoryController
from valorize_entrypoints.api.controllers.archives import ArchiveController
from valorize_entrypoints.api.controllers.budgets import BudgetController
from valorize_entrypoints.api.controllers.exports import ExportController
from valorize_entrypoints.api.controllers.identity import (
    MemberController,
    SessionController,
    SignupController,
    TokenController,
)
from valorize_entrypoints.api.controllers.imports import ImportController
from valorize_entrypoints.api.controllers.jobs import JobController, NotificationController
from valorize_entrypoints.api.controllers.rates import RateController, SettingsController
from valorize_entrypoints.api.controllers.realtime import (
    BroadcastingController,
    PusherApiController,
    PusherUserTerminationController,
    UserAuthController,
)
from valorize_entrypoints.api.controllers.reports import ReportController
from valorize_entrypoints.api.controllers.rules import RuleController
from valorize_entrypoints.api.controllers.schedules import (
    ForecastController,
    ScheduleController,
    SubscriptionController,
)
from valorize_entrypoints.api.controllers.transactions import TransactionController, TransferController
from valorize_entrypoints.api.controllers.webhooks import WebhookController
from valorize_entrypoints.api.errors import internal_error, problem_details
from valorize_entrypoints.api.fast_reads import CachedReadMiddleware
from valorize_entrypoints.api.idempotency import IdempotencyMiddleware
from valorize_entrypoints.api.methods import AllowedMethodsMiddleware
from valorize_entrypoints.api.observability import RequestLogMiddleware
from valorize_entrypoints.api.openapi import ConstrainedJsonRenderPlugin, local_swagger
from valorize_entrypoints.api.policy import declare_access
from valorize_entrypoints.api.rate_limits import RateLimitMiddleware
from valorize_entrypoints.api.route_checks import check_route, require_http_routes
from valorize_entrypoints.api.schemas import ProblemOut
from valorize_entrypoints.container import Container, Runtime, serving
from valorize_entrypoints.logs import configure_logging_from
from valorize_entrypoints.metrics import registry as metrics_registry
from valorize_entrypoints.tracing import configure_tracing
from valorize_entrypoints.web.routes import web_routes
from valorize_entrypoints.worker import ScheduleTickController, TaskController

__all__ = ["create_app"]


@get("/health", tags=["operations"], summary="The process is up", include_in_schema=True)
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/ready",
    tags=["operations"],
    summary="The database answers",
    responses={
        503: ResponseSpec(data_container=ProblemOut, description="Not ready", media_type="application/problem+json")
    },
)
async def ready(runtime: NamedDependency[Runtime]) -> dict[str, str]:
    try:
        await runtime.ready()
    except Exception as exc:  # any failure of the source of truth means "not ready"
        raise ServiceUnavailableException("the database does not answer", headers={"Retry-After": "1"}) from exc
    return {"status": "ready"}


class MetricsController(Controller):
    """Prometheus' text format; every worker's samples with ``--workers`` > 1 (metrics.py)."""

    path = "/metrics"
    include_in_schema = False

    @get()
    async def scrape(self) -> Response[bytes]:
        body = generate_latest(metrics_registry())
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def _runtime(state: State) -> Runtime:
    return state.runtime  # type: ignore[no-any-return]


def _vz(runtime: NamedDependency[Runtime]) -> Valorize:
    return runtime.app


def create_app(container: Container | None = None, *, include_worker: bool = False) -> Litestar:
    """An API app whose adapters come from ``container`` (default: from ``VALORIZE_*``).

    ``include_worker`` also mounts the worker's ``POST /tasks/{name}`` (one-process runs).
    """
    container = container or Container()
    settings = container.settings()
    configure_logging_from(settings)
    configure_tracing(settings.tracing, service="valorize-api")

    app = Litestar(
        logging_config=None,  # every record goes through logs.py's handler (configure_logging_from)
        route_handlers=[
            health,
            ready,
            MetricsController,
            SignupController,
            SessionController,
            TokenController,
            MemberController,
            AccountController,
            CategoryController,
            TransactionController,
            TransferController,
            BudgetController,
            RuleController,
            ReportController,
            RateController,
            SettingsController,
            ImportController,
            ExportController,
            WebhookController,
            ArchiveController,
            JobController,
            NotificationController,
            ScheduleController,
            ForecastController,
            SubscriptionController,
            BroadcastingController,
            UserAuthController,
            PusherApiController,
            PusherUserTerminationController,
            *([TaskController, ScheduleTickController] if include_worker else []),
            *web_routes(settings),  # the dashboard at / and its files under /app/
        ],
        dependencies={
            "runtime": Provide(_runtime, sync_to_thread=False),
            "vz": Provide(_vz, sync_to_thread=False),
            "actor": Provide(provide_actor),
            "writer": Provide(provide_writer),
        },
        # Hand-written middlewares use plain ASGI types (see api/asgi.py), hence the casts.
        middleware=[
            cast("Any", RequestLogMiddleware),  # request id, metrics, access log
            cast("Any", AllowedMethodsMiddleware),  # OPTIONS lists every method of the path
            # hostile JSON bodies (415/413/400) before anything reads or authenticates them
            DefineMiddleware(
                cast("Any", JsonBodyGuardMiddleware),
                max_bytes=settings.max_json_bytes,
                max_depth=settings.max_json_depth,
            ),
            cast("Any", RateLimitMiddleware),  # per token, and failed authentication per address
            cast("Any", StrictJsonBodyMiddleware),  # bodies as the schema says (Litestar converts leniently)
            cast("Any", CachedReadMiddleware),  # cached reads from memory, before the route's parameters
            DefineMiddleware(cast("Any", IdempotencyMiddleware)),
        ],
        # every route's least role, from the one table in api/policy.py; then no undeclared query
        # parameter (a hook, not guards: Litestar copies the handler for each guard; api/route_checks.py)
        before_request=check_route,
        plugins=[ProblemDetailsPlugin(problem_details())],
        exception_handlers={Exception: internal_error},
        lifespan=[serving(container)],
        openapi_config=OpenAPIConfig(
            title="Valorize API",
            version="0.1.0",
            description="Finance with automatic transaction categorization.",
            path="/schema",
            # msgspec's schemas of the bodies: every constraint it enforces (api/openapi.py)
            render_plugins=[ConstrainedJsonRenderPlugin(), local_swagger()],  # Swagger UI from /app/vendor
        ),
        debug=False,
    )
    declare_access(app)
    require_http_routes(app)
    return app
