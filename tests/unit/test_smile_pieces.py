"""Pure pieces of the Smile client: the rate limiter, error parsing, backoff bounds, models."""

from __future__ import annotations

import pytest

from customer_hub.smile import RateLimiter, RetryPolicy, RewardFulfillment
from customer_hub.smile.errors import (
    SmileRateLimited,
    SmileUnauthorized,
    SmileUnavailable,
    error_for,
    error_message,
    redact,
)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_limiter_never_lets_more_than_rate_through_in_any_window() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10, 1.0, clock=fake.clock, sleep=fake.sleep)
    sent = []
    for _ in range(35):
        limiter.acquire("background")  # a sync: no wait budget
        sent.append(fake.now)
    for i, start in enumerate(sent):
        assert sum(1 for t in sent[i:] if t - start < 1.0) <= 10
    assert sent[-1] - sent[0] >= 3.0


def test_limiter_refuses_at_once_a_wait_longer_than_the_budget() -> None:
    from customer_hub.smile.ratelimit import LimiterBusy

    fake = FakeTime()
    limiter = RateLimiter(10, 1.0, clock=fake.clock, sleep=fake.sleep)
    for _ in range(10):
        limiter.acquire("urgent")
    with pytest.raises(LimiterBusy):
        limiter.acquire("urgent", within=0.5)
    assert fake.now == 100.0  # refused without waiting
    assert limiter.acquire("urgent", within=1.0) == 1.0


def test_error_bodies_are_parsed_defensively() -> None:
    assert error_message('{"error": {"message": "Not enough points"}}') == "Not enough points"
    assert error_message('{"errors": [{"message": "bad id"}]}') == "bad id"
    assert error_message('{"error": "invalid_token"}') == "invalid_token"
    assert error_message("<html>502 Bad Gateway</html>") == ""
    assert error_message("[]") == ""
    assert isinstance(error_for(401, "", "/x"), SmileUnauthorized)
    assert isinstance(error_for(429, "", "/x"), SmileRateLimited)
    assert isinstance(error_for(429, "", "/x"), SmileUnavailable)
    assert isinstance(error_for(504, "oops", "/x"), SmileUnavailable)
    assert str(error_for(500, "", "/customers")) == "Smile.io answered 500 (500 on /customers)"


def test_the_key_is_redacted_from_echoed_bodies() -> None:
    assert redact('{"error": "bad key sk_live_123"}', "sk_live_123") == (
        '{"error": "bad key [redacted]"}'
    )


def test_backoff_is_bounded_and_honours_retry_after() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    assert all(0 <= policy.delay(attempt) <= 4.0 for attempt in range(1, 20) for _ in range(20))
    assert policy.delay(3, retry_after=2.0) == 2.0
    assert policy.delay(3, retry_after=60.0) == 4.0


def test_blank_codes_mean_no_code_yet() -> None:
    pending = RewardFulfillment.model_validate(
        {"id": 1, "customer_id": 2, "code": "", "fulfillment_status": "pending",
         "updated_at": "2026-11-23T10:00:00.000Z"}
    )  # fmt: skip
    assert pending.code is None
    assert pending.coupon().fulfillment_status == "pending"


def test_the_smile_package_exports_resolve_on_first_use() -> None:
    from customer_hub import smile

    for name in smile.__all__:
        assert getattr(smile, name) is not None, name
    with pytest.raises(AttributeError):
        _ = smile.NoSuchName  # type: ignore[attr-defined]


def test_the_smile_stand_in_limits_by_arrival_even_when_it_handles_requests_out_of_order() -> None:
    """The stand-in counts each request from when it reached the socket; on a busy machine its
    threads may handle a request after later ones. Ten requests within 1 s, then one that
    arrived 1 s before the first: no 1-second window holds 11, so Smile would answer it.
    Before, the late-handled one was counted against the ten and refused (429)."""
    import time

    from hubdev.smile_standin import SmileStandIn

    with SmileStandIn(rate_limit=10) as standin:
        standin.add_account("sk_test_order")
        headers = {"authorization": "Bearer sk_test_order"}
        base = time.time() - 10

        def status(arrived: float) -> int:
            reply = standin.handle("GET", "/v1/points_settings", headers, b"", received=arrived)
            assert reply is not None
            return reply[0]

        assert [status(base + 1.0 + i / 10) for i in range(10)] == [200] * 10
        assert status(base) == 200  # alone in [base, base + 1)
        assert status(base + 0.5) == 200  # [base + 0.5, base + 1.5): with 5 of the ten
        assert status(base + 0.95) == 429  # [base + 0.95, base + 1.95): with all ten
        assert status(base + 1.95) == 429  # [base + 1.0, base + 2.0): the 11th


def test_smile_clients_share_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every redemption and every refreshing read makes a Smile client. Building a TLS
    context loads the CA bundle: 36 ms of CPU each (measured), so a warm container builds
    it once and every client shares it."""
    import ssl

    from customer_hub.smile import SmileClient

    built: list[object] = []
    real = ssl.create_default_context

    def counting(*args: object, **kwargs: object) -> ssl.SSLContext:
        built.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    monkeypatch.setenv("SMILE_API_BASE_URL", "https://api.smile.example/v1")
    clients = [
        SmileClient(f"sk_test_{n}", base_url="https://api.smile.example/v1") for n in range(3)
    ]
    for smile in clients:
        smile.close()
    assert len(built) <= 1


def test_a_limiter_load_worker_never_blocks_on_its_unread_stdout() -> None:
    """The limiter benchmark's workers answer their parent on stdout, which it reads at the
    end; the metrics every Smile call prints must not fill that pipe and block the calls."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "from hubdev.limiter_load import protocol_channel\n"
        "channel = protocol_channel()\n"
        "for _ in range(2000): print('x' * 100, flush=True)\n"  # 200 KB: past a pipe's 64 KiB
        "print('done', file=channel, flush=True)\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={"PYTHONPATH": f"{root / 'devtools'}:{root / 'layers/shared'}:{root}"},
    )
    try:
        worker.wait(timeout=20)  # the pipe is not read meanwhile, as in the benchmark
    finally:
        worker.kill()
    assert worker.stdout is not None and worker.stdout.read() == "done\n"


def test_a_redemption_s_smile_calls_go_first_and_share_one_wait_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The purchase, then its fulfillment polls: all urgent (a poll at a read's priority was
    refused under load and the coupon answered `pending`), and their slot waits add up to at
    most a purchase's budget (the redeem function's timeout is sized for it)."""
    from customer_hub.smile import access
    from customer_hub.smile.budget import LimiterBusy, wait_budget

    asked: list[tuple[str, float]] = []

    class SlowLimiter(RateLimiter):
        def acquire(self, priority: str = "interactive", within: float | None = None) -> float:  # type: ignore[override]
            asked.append((priority, float(within if within is not None else -1)))
            if within is not None and within < 2.0:
                raise LimiterBusy(1.0)
            return 2.0  # each slot took 2 s to come

    monkeypatch.setattr(access, "smile_api_key", lambda _merchant: "sk_test_redeem")
    monkeypatch.setattr("customer_hub.smile.transport.limiter_for", lambda *_a: SlowLimiter())
    smile = access.client_for("m_test", "purchase")
    assert smile is not None
    gate = smile._slots
    assert gate.wait(gate.priority_of("POST", smile.priority), 0.0, "/purchase") == 2.0
    assert gate.wait(gate.priority_of("GET", smile.priority), 0.0, "/poll") == 2.0
    with pytest.raises(SmileUnavailable):  # 1 s of the redemption's 5 s left: refused
        gate.wait(gate.priority_of("GET", smile.priority), 0.0, "/poll")
    smile.close()
    assert [p for p, _ in asked] == ["urgent"] * 3
    assert [w for _, w in asked] == [wait_budget("urgent"), 3.0, 1.0]
