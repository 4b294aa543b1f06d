"""Imported by the local process pool's fork server (publishing.pipeline._pool), never by the app: it sets Django up
once in the server, so that each process forked from it starts with the apps loaded instead of loading them
again (about 0.4 s a process, twice per edition)."""

import contextlib

import django

# An error here would kill the fork server, and every pool would fail with a broken pipe; each process sets Django
# up again (publishing.pipeline._start_pool_process), where the same error is raised with its real cause.
with contextlib.suppress(Exception):
    django.setup()
