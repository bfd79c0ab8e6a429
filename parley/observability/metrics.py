"""Prometheus metrics (off unless PARLEY_METRICS_ENABLED): one registry per app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """The numbers an operator watches. Labels never carry content, keys or client addresses."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "parley_requests", "HTTP requests answered.", ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "parley_request_duration_seconds", "Time to answer, to the last byte.", ["route"],
            buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.first_token = Histogram(
            "parley_first_token_seconds", "Time from a turn's start to its first words.",
            ["provider"], buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.upstream_errors = Counter(
            "parley_upstream_errors", "Turns that failed, by provider and error code.",
            ["provider", "code"], registry=self.registry,
        )
        self.rate_limited = Counter(
            "parley_rate_limited", "Requests refused by a rate limit or the stream cap.",
            ["reason"], registry=self.registry,
        )
        self.dependency_up = Gauge(
            "parley_dependency_up", "1 while a configured dependency answers, else 0.",
            ["component"], registry=self.registry,
        )
        self.dependency_failures = Counter(
            "parley_dependency_failures", "Calls to a dependency that failed (and were "
            "answered without it).", ["component"], registry=self.registry,
        )
        self.access_code_failures = Counter(
            "parley_access_code_failures", "Wrong access codes, and refusals for too many.",
            ["outcome"], registry=self.registry,
        )
        # Reported by the page (POST /api/metrics/turn): only the browser knows when the
        # person stopped talking and when the first sound played.
        self.voice_to_voice = Histogram(
            "parley_voice_to_voice_seconds", "A turn's time from the end of the person's "
            "words to the first sound of the answer, by stage, as the page measured it.",
            ["path", "stage"], buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.active_streams = Gauge(
            "parley_active_streams", "Model turns in flight on this instance.",
            registry=self.registry,
        )
