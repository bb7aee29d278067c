"""The scheduler service: one active APScheduler process, a standby, jobs that only enqueue."""
