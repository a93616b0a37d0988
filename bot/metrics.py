"""What the bot is doing, in Prometheus' terms; one registry per app (no globals).

Counters and the latency histogram are updated where things happen; the depths and lags of
the inbox, the outbox and the jobs are read from the database when /metrics is scraped.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

SEND_RESULTS = ("ok", "429", "403", "5xx", "timeout", "rejected")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates_received = Counter(
            "meedoen_updates_received", "Platform updates received", ["channel"], registry=r
        )
        self.updates_handled = Counter(
            "meedoen_updates_handled", "Platform updates handled", ["channel"], registry=r
        )
        self.updates_throttled = Counter(
            "meedoen_updates_throttled", "Updates set aside by the per-person throttle", registry=r
        )
        self.handling_seconds = Histogram(
            "meedoen_handling_seconds",
            "Time to handle one update, from taking it to its commit",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.messages_queued = Counter(
            "meedoen_messages_queued", "Replies written to the outbox", registry=r
        )
        self.sends = Counter(
            "meedoen_sends", "Message parts sent, by result", ["channel", "result"], registry=r
        )
        self.inbox_depth = Gauge("meedoen_inbox_depth", "Updates not handled yet", registry=r)
        self.inbox_lag = Gauge(
            "meedoen_inbox_lag_seconds", "Age of the oldest unhandled update", registry=r
        )
        self.outbox_depth = Gauge("meedoen_outbox_depth", "Messages not sent yet", registry=r)
        self.outbox_lag = Gauge(
            "meedoen_outbox_lag_seconds", "Age of the oldest unsent message", registry=r
        )
        self.outbox_failed = Gauge(
            "meedoen_outbox_failed", "Messages given up on (kept for moderators)", registry=r
        )
        self.jobs_due = Gauge("meedoen_jobs_due", "Jobs due and not done", registry=r)
        self.job_lag = Gauge(
            "meedoen_job_lag_seconds", "How late the oldest due job is", registry=r
        )
