"""The `hub` command: `hub dev` runs the local stack; `hub merchants create` adds a merchant,
`hub merchants rotate` rotates its API key or customer token secret."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import signal
import sys
import threading
import time
from typing import Any, TextIO

import httpx


class _GatedStream(io.TextIOBase):
    """Holds log output back until the ready line is out, so it is the first line printed."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.buffer_: list[str] = []
        self.open = False
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            if self.open:
                self.target.write(text)
                self.target.flush()
            else:
                self.buffer_.append(text)
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def release(self, first_line: str) -> None:
        with self.lock:
            self.target.write(first_line + "\n")
            self.target.write("".join(self.buffer_))
            self.target.flush()
            self.buffer_.clear()
            self.open = True


def dev(args: argparse.Namespace) -> int:
    # Ctrl-C stops it even when started with SIGINT ignored (a background job of a shell).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    gate = _GatedStream(sys.stdout)
    sys.stdout = gate
    logging.basicConfig(
        level=logging.INFO,
        stream=gate,
        format='{"level":"%(levelname)s","logger":"%(name)s","message":"%(message)s"}',
    )
    for noisy in ("botocore", "urllib3", "httpx", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from hubdev.demo import seed
    from hubdev.iam import install_file_recorder_from_env
    from hubdev.server import LocalServer
    from hubdev.smile_dev import connect_demo, start_standin
    from hubdev.stack import LocalStack
    from hubdev.web import mount as mount_web

    install_file_recorder_from_env()  # the test suites check its functions' AWS calls
    started = time.monotonic()
    standin = start_standin()
    stack = LocalStack()
    if standin is not None:
        stack.on_stop.append(standin.stop)
    server = LocalServer(stack, args.host, args.port)
    ready: dict[str, Any] = {
        "ready": True,
        "url": server.url,
        "aws_endpoint": stack.endpoint,
        "smile_url": os.environ["SMILE_API_BASE_URL"],
    }
    if not args.no_demo:
        ready["demo"] = seed(stack)
        ready["demo"]["smile"] = connect_demo(stack, ready["demo"]["merchant_id"], standin)
    ready.update(mount_web(server, ready.get("demo")))  # storefront drawer, dashboard
    stack.start_background()
    ready["startup_seconds"] = round(time.monotonic() - started, 2)
    gate.release(json.dumps(ready))

    def stop(_signum: int, _frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        stack.stop()
        logging.getLogger("hubdev").info("stopped")
    return 0


def merchants_create(args: argparse.Namespace) -> int:
    body = {
        "name": args.name,
        "shop_domain": args.shop_domain,
        "timezone": args.timezone,
        "currency": args.currency,
    }
    if args.webhook_secret:
        body["webhook_secret"] = args.webhook_secret
    if args.url:
        response = httpx.post(f"{args.url.rstrip('/')}/_local/merchants", json=body, timeout=30)
        if response.status_code != 201:
            print(response.text, file=sys.stderr)
            return 1
        print(response.text)
        return 0
    return _create_in_stack(args, body)


def merchants_rotate(args: argparse.Namespace) -> int:
    """POST /v1/admin/credentials/{name}/rotate with the key in $HUB_API_KEY (not an argument:
    command lines are visible to every user of the machine); prints the answer once."""
    api_key = os.environ.get("HUB_API_KEY", "")
    if not api_key:
        print("set HUB_API_KEY to the merchant's current API key", file=sys.stderr)
        return 2
    response = httpx.post(
        f"{args.url.rstrip('/')}/v1/admin/credentials/{args.credential}/rotate",
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=30,
    )
    if response.status_code != 200:
        print(response.text, file=sys.stderr)
        return 1
    print(response.text)
    return 0


def _create_in_stack(args: argparse.Namespace, body: dict[str, str]) -> int:
    """Against a deployed stack: table names and secrets prefix from its outputs."""
    import boto3
    from pydantic import ValidationError

    from customer_hub.infra.config import config
    from customer_hub.merchants.profiles import NewMerchant, create_merchant

    try:
        new = NewMerchant.model_validate(body)
    except ValidationError as exc:
        print(exc, file=sys.stderr)
        return 2
    cloudformation = boto3.client("cloudformation", region_name=args.region)
    stack = cloudformation.describe_stacks(StackName=args.stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    os.environ["DATA_TABLE"] = outputs["DataTableName"]
    os.environ["SECRETS_PREFIX"] = outputs["SecretsPrefix"]
    config.cache_clear()
    print(json.dumps(create_merchant(new).model_dump()))
    return 0


# ---------------- stream OnFailure queues: redrive (see hubdev.redrive)
_DEAD_LETTER_OUTPUTS = {
    "MetricRollupsFunction": "MetricRollupsDeadLetterQueueUrl",
    "MarkCouponsUsedFunction": "MarkCouponsUsedDeadLetterQueueUrl",
}


def redrive_command(args: argparse.Namespace) -> int:
    """Redrive a deployed stream function's parked batches (within the stream's 24 hours)."""
    import boto3

    from hubdev.redrive import lambda_invoker, redrive

    session = boto3.session.Session(region_name=args.region)
    cloudformation = session.client("cloudformation")
    stack = cloudformation.describe_stacks(StackName=args.stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    function_name = cloudformation.describe_stack_resource(
        StackName=args.stack_name, LogicalResourceId=args.function
    )["StackResourceDetail"]["PhysicalResourceId"]
    result = redrive(
        session.client("sqs"),
        session.client("dynamodbstreams"),
        outputs[_DEAD_LETTER_OUTPUTS[args.function]],
        lambda_invoker(session.client("lambda"), function_name),
    )
    print(json.dumps(result.__dict__))
    return 0 if result.failed == 0 else 1


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="hub", description="customer-hub developer commands")
    commands = root.add_subparsers(dest="command", required=True)

    run = commands.add_parser("dev", help="run the whole stack locally (moto, no containers)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=3000)
    run.add_argument("--no-demo", action="store_true", help="start without demo data")
    run.set_defaults(func=dev)

    merchants = commands.add_parser("merchants", help="manage merchants")
    merchant_commands = merchants.add_subparsers(dest="merchant_command", required=True)
    create = merchant_commands.add_parser(
        "create", help="create a merchant; prints its secrets once"
    )
    create.add_argument("--name", required=True)
    create.add_argument("--shop-domain", required=True)
    create.add_argument("--timezone", required=True)
    create.add_argument("--currency", required=True)
    create.add_argument(
        "--webhook-secret",
        help="the secret Shopify signs this shop's webhooks with (the custom app's client "
        "secret or the store's webhook signing secret); generated when not given",
    )
    target = create.add_mutually_exclusive_group()
    target.add_argument(
        "--url",
        default=os.environ.get("HUB_URL"),
        help="a running `hub dev` (default: $HUB_URL); otherwise the deployed stack",
    )
    target.add_argument("--stack-name", default="customer-hub", help="deployed stack name")
    create.add_argument("--region", default=os.environ.get("AWS_REGION"))
    create.set_defaults(func=merchants_create)
    rotate = merchant_commands.add_parser(
        "rotate",
        help="rotate the API key or customer token secret of the merchant whose key is in "
        "$HUB_API_KEY; prints the new value once",
    )
    rotate.add_argument("--credential", choices=["api_key", "customer_token_secret"], required=True)
    rotate.add_argument(
        "--url",
        default=os.environ.get("HUB_URL"),
        required=not os.environ.get("HUB_URL"),
        help="the API's base URL (deployed or `hub dev`; default: $HUB_URL)",
    )
    rotate.set_defaults(func=merchants_rotate)

    again = commands.add_parser(
        "redrive", help="hand a stream function's parked batches (OnFailure queue) to it again"
    )
    again.add_argument("--function", choices=sorted(_DEAD_LETTER_OUTPUTS), required=True)
    again.add_argument("--stack-name", default="customer-hub", help="deployed stack name")
    again.add_argument("--region", default=os.environ.get("AWS_REGION"))
    again.set_defaults(func=redrive_command)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
