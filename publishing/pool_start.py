"""Imported by the local process pool's fork server (publishing.pipeline._pool), never by the app: it sets Django up
once in the server, so that each process forked from it starts with the apps loaded instead of loading them
again (about 0.4 s a process, twice per edition)."""

import django

django.setup()
