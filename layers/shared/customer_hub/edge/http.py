"""The HTTP edge shared by every API function: resolver, problem responses, request identity."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from customer_hub.edge import invocation
from customer_hub.edge.request_checks import (
    checked_request,
    object_body,
)
from customer_hub.infra import observability
from customer_hub.infra.aws import is_transient
from customer_hub.infra.config import checked_at_cold_start
from customer_hub.problems import (
    PROBLEM_CONTENT_TYPE,
    NotFound,
    Problem,
    ServiceBusy,
    Unauthorized,
    validation_error,
    validation_problem,
)

logger = Logger()


def problem_response(problem: Problem) -> Response[str]:
    return Response(
        status_code=problem.status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=problem.to_json(),
        headers=dict(problem.headers),
    )


BUSY_RETRY_AFTER = "1"


def service_busy() -> ServiceBusy:
    """The 503 answered when DynamoDB (or Secrets Manager) throttles past the SDK's retries."""
    return ServiceBusy(
        "The Customer Hub is busy right now; please retry shortly.",
        headers={"Retry-After": BUSY_RETRY_AFTER},
    )


def _busy_or_raise(exc: Exception) -> ServiceBusy:
    if not is_transient(exc):
        raise exc
    response = exc.response if isinstance(exc, ClientError) else {}
    code = response.get("Error", {}).get("Code") or type(exc).__name__
    logger.warning("AWS call throttled or unavailable", extra={"aws_error": code})
    return service_busy()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, separators=(",", ":")),
        headers=headers or {},
    )


class HttpResolver(APIGatewayHttpResolver):
    """APIGatewayHttpResolver whose current event and context are this invocation's
    (`customer_hub.edge.invocation`), not the process-wide ones Powertools keeps on `BaseRouter`:
    `hub dev` and the tests serve concurrent requests from threads of one process."""

    @property
    def current_event(self) -> Any:
        current = invocation.current()
        return current.proxy_event if current is not None else None

    @current_event.setter
    def current_event(self, value: Any) -> None:
        current = invocation.current() or invocation.begin({}, None)
        current.proxy_event = value

    @property
    def lambda_context(self) -> Any:
        current = invocation.current()
        return current.context if current is not None else None

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        current = invocation.current() or invocation.begin({}, None)
        current.context = value

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        checked = dict(event)
        invocation.resolving(checked, context, self._to_proxy_event(checked))
        return super().resolve(event, context)


def make_app(*, enable_validation: bool = True) -> APIGatewayHttpResolver:
    """An HTTP API v2 resolver whose every error is RFC 9457 problem+json.

    With validation, a route's return annotation (a `customer_hub.schemas` model) is its
    documented success body, and Powertools validates and serializes what the route returns
    against it. A body that does not match is our bug, not the client's: it is logged and
    fails the invocation (500) instead of Powertools' default 422.
    """
    app = HttpResolver(
        enable_validation=enable_validation,
        response_validation_error_http_code=500 if enable_validation else None,
    )

    @app.exception_handler(ResponseValidationError)
    def _bad_response(exc: ResponseValidationError) -> Response[str]:
        errors = [{"loc": e.get("loc"), "type": e.get("type")} for e in exc.errors()]
        logger.error("response does not match its model", extra={"errors": errors})
        raise exc

    @app.exception_handler(Problem)
    def _problem(exc: Problem) -> Response[str]:
        if exc.status >= 500:
            logger.warning("upstream problem", extra={"problem": exc.slug, "detail": exc.detail})
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        return problem_response(validation_problem(exc.errors()))

    @app.exception_handler(ClientError)
    def _aws_client_error(exc: ClientError) -> Response[str]:
        return problem_response(_busy_or_raise(exc))

    @app.exception_handler(BotoCoreError)
    def _aws_unreachable(exc: BotoCoreError) -> Response[str]:
        return problem_response(_busy_or_raise(exc))

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(_exc: UnicodeDecodeError) -> Response[str]:
        return problem_response(
            validation_error(["body"], "the request body is not UTF-8 encoded JSON")
        )

    @app.exception_handler(json.JSONDecodeError)
    def _not_json(_exc: json.JSONDecodeError) -> Response[str]:
        return problem_response(validation_error(["body"], "the request body is not JSON"))

    @app.not_found
    def _not_found(_exc: Exception) -> Response[str]:
        return problem_response(NotFound("No such route."))

    return app


_NO_MERCHANT = Unauthorized(
    "A valid merchant API key is required (Authorization: Bearer <api_key>)."
)


def _authorizer_context(event: dict[str, Any]) -> dict[str, Any]:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    return dict(authorizer.get("lambda") or {})


def _authorized_merchant(event: dict[str, Any]) -> str:
    return str(_authorizer_context(event).get("merchant_id") or "")


# The authorizer's context flag when it could not look the key up (DynamoDB throttled).
AUTHORIZER_UNAVAILABLE = "unavailable"


def merchant_id_from_authorizer(app: APIGatewayHttpResolver) -> str:
    """The merchant the API key named, as resolved by the Lambda authorizer.

    The authorizer lets every request through and passes `merchant_id` (empty when the key is
    missing or unknown), so that the 401 is a problem+json body rather than API Gateway's own.
    """
    merchant_id = _authorized_merchant(app.current_event.raw_event)
    if not merchant_id:
        raise _NO_MERCHANT
    return merchant_id


def _result(problem: Problem) -> dict[str, Any]:
    return {
        "statusCode": problem.status,
        "headers": {"Content-Type": PROBLEM_CONTENT_TYPE, **problem.headers},
        "body": problem.to_json(),
        "isBase64Encoded": False,
    }


type Finish = Callable[[dict[str, Any]], dict[str, Any]]
type Prepare = Callable[[dict[str, Any]], dict[str, Any]]


def _answer(
    app: APIGatewayHttpResolver,
    event: dict[str, Any],
    context: LambdaContext,
    admit: Callable[[dict[str, Any]], None] | None,
    prepare: Prepare | None,
) -> dict[str, Any]:
    try:
        if admit is not None:
            admit(event)
        request = checked_request(event)
        if prepare is not None:
            request = prepare(request)
    except Problem as problem:
        return _result(problem)
    except (ClientError, BotoCoreError) as exc:  # throttled in `prepare`: 503, as in a route
        return _result(_busy_or_raise(exc))
    return app.resolve(request, context)


def _route(
    app: APIGatewayHttpResolver,
    logger: Logger,
    *,
    needs: tuple[str, ...],
    admit: Callable[[dict[str, Any]], None] | None = None,
    prepare: Prepare | None = None,
    finish: Finish | None = None,
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The one Lambda handler of every route: configuration checked (`needs`: the variables
    beyond template.yaml's Globals), this invocation begun (`edge.invocation`) before anything
    reads the request, `admit`, `checked_request` and `prepare` (checks that come before
    Powertools validates the request; a refusal is a problem+json), then the resolver; `finish`
    adds headers to every answer, refusals included."""

    @logger.inject_lambda_context
    @observability.traced_handler
    @checked_at_cold_start(*needs)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        invocation.begin(event, context)
        try:
            response = _answer(app, event, context, admit, prepare)
            return finish(response) if finish is not None else response
        finally:
            invocation.end()

    return handler


def public_route(
    app: APIGatewayHttpResolver,
    logger: Logger,
    *,
    needs: tuple[str, ...] = (),
    prepare: Prepare | None = None,
    finish: Finish | None = None,
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda handler of a route without the merchant authorizer."""
    return _route(app, logger, needs=needs, prepare=prepare, finish=finish)


def _admit_merchant(event: dict[str, Any]) -> None:
    if not _authorized_merchant(event):
        unavailable = _authorizer_context(event).get(AUTHORIZER_UNAVAILABLE)
        raise service_busy() if unavailable else _NO_MERCHANT


def merchant_route(
    app: APIGatewayHttpResolver,
    logger: Logger,
    *,
    needs: tuple[str, ...] = (),
    body: bool = False,
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda handler of a merchant route: 401 before anything else without a valid key
    (503 when the authorizer could not look the key up). A route with a `Body()` says `body`:
    its body must be a JSON object (`object_body`)."""
    prepare = _object_body_required if body else None
    return _route(app, logger, needs=needs, admit=_admit_merchant, prepare=prepare)


def _object_body_required(request: dict[str, Any]) -> dict[str, Any]:
    return object_body(request, None)
