"""Writes about background jobs themselves: retrying a failed job from the admin, and running again
the jobs of a worker that stopped (killed, or its machine lost) while running them.

django-tasks' database backend leaves such a job "running" for ever. Every Townhall job is
idempotent, so the safe repair is to mark it failed, saying why, and queue it again.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from notifications.models import WorkerHeartbeat

logger = logging.getLogger("townhall.notifications")

#: A worker that has not said it is alive for this long is taken to have stopped.
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
#: How often a worker says it is alive, and looks for jobs of stopped workers.
HEARTBEAT_EVERY = 5.0


class JobError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class WorkerLost(Exception):
    """Recorded as the error of a job whose worker stopped while running it."""


def _requeue(result: DBTaskResult) -> DBTaskResult:
    """Queue ``result``'s task again with the same arguments, to run now (not at its old time)."""
    task = dataclasses.replace(result.task, run_after=None)
    new = task.enqueue(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
    return DBTaskResult.objects.get(pk=new.id)


@transaction.atomic
def job_retry(*, result_id: str) -> DBTaskResult:
    """Queue a failed job again with the same arguments. The failed row stays, as history."""
    try:
        uuid.UUID(str(result_id))
    except ValueError:
        raise JobError("There is no such job.", "not_found") from None
    result = DBTaskResult.objects.select_for_update().filter(pk=result_id).first()
    if result is None:
        raise JobError("There is no such job.", "not_found")
    if result.status != TaskResultStatus.FAILED:
        raise JobError("Only a failed job can be run again.", "not_failed")
    try:
        return _requeue(result)
    except ImportError as exc:  # a job whose code no longer exists
        raise JobError(f"This job cannot be run again: {exc}", "unknown_task") from exc


def worker_heartbeat(*, worker_id: str) -> None:
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(last_seen=now)
    if not updated:
        WorkerHeartbeat.objects.create(
            worker_id=worker_id, hostname=socket.gethostname()[:255], pid=os.getpid(), last_seen=now
        )


def worker_stopped(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


@transaction.atomic
def jobs_recover_lost() -> int:
    """Mark failed, and queue again, every running job whose worker has stopped. Returns how many."""
    cutoff = timezone.now() - HEARTBEAT_TIMEOUT
    alive = set(WorkerHeartbeat.objects.filter(last_seen__gte=cutoff).values_list("worker_id", flat=True))
    running = DBTaskResult.objects.select_for_update(skip_locked=True).filter(status=TaskResultStatus.RUNNING)
    recovered = 0
    for result in running:
        worker = result.worker_ids[-1] if result.worker_ids else None
        if worker in alive:
            continue
        result.status = TaskResultStatus.FAILED
        result.finished_at = timezone.now()
        result.exception_class_path = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"
        result.traceback = f"The worker {worker} stopped while running this job. It was queued again."
        result.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
        try:
            _requeue(result)
        except ImportError:
            logger.exception("Job %s cannot be queued again", result.pk)
            continue
        recovered += 1
    WorkerHeartbeat.objects.filter(last_seen__lt=cutoff - HEARTBEAT_TIMEOUT).delete()
    if recovered:
        logger.warning("Queued again %d job(s) of stopped workers", recovered)
    return recovered
