"""Imported by the worker that test_worker_kill kills (`celery worker --include`), never by the app: the first chunk
that worker starts is held, so that the kill lands in the middle of a chunk whatever the machine's speed. Without
it, a fast worker could finish the chunk it had just before the kill, and the test would not see a chunk lost.

The held task writes its piece's key to HOLD_FILE, then waits until the worker is killed."""

from __future__ import annotations

import os
import time
from typing import Any

from celery.signals import task_prerun


@task_prerun.connect
def _hold_the_first_chunk(task: Any = None, args: Any = None, **_: Any) -> None:
    # render_piece(edition_id, attempt, key, slot): a chunk or the front matter has a slot, the furniture none.
    if task is None or task.name != "publishing.tasks.render_piece" or len(args or ()) < 4 or args[3] is None:
        return
    try:
        handle = os.open(os.environ["HOLD_FILE"], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return  # another chunk is held already
    os.write(handle, args[2].encode())
    os.close(handle)
    time.sleep(600)
