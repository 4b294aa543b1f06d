"""The client address of the request being served, so that every audit row written while serving it says where the
action came from without each service taking the request. Set by accounts.middleware.AuditContextMiddleware (which
knows the trusted proxies); empty in tasks and commands."""

from __future__ import annotations

from contextvars import ContextVar

client_address: ContextVar[str | None] = ContextVar("audit_client_address", default=None)
