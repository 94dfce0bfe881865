"""Run a background worker: django-tasks' database worker, plus a heartbeat so that, if this worker
stops mid-job, the other workers (or this one, restarted) run that job again."""

from __future__ import annotations

import logging
import threading

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connection
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from notifications.jobs import HEARTBEAT_EVERY, jobs_recover_lost, worker_heartbeat, worker_stopped
from notifications.tasks import BACKEND

logger = logging.getLogger("townhall.notifications")


class Command(BaseCommand):
    help = "Run a background worker for Townhall's jobs (mail and more). Run several for more speed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=0.5, help="Seconds between looks when idle.")
        parser.add_argument("--batch", action="store_true", help="Run what is queued, then stop.")
        parser.add_argument("--worker-id", default="", help="A name unique among running workers.")

    def _beat(self, worker_id: str, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                close_old_connections()
                worker_heartbeat(worker_id=worker_id)
                jobs_recover_lost()
            except DatabaseError:
                logger.exception("Worker heartbeat failed; trying again")
            stop.wait(HEARTBEAT_EVERY)
        connection.close()

    def handle(self, *args, interval: float, batch: bool, worker_id: str, **options) -> None:
        worker_id = worker_id or get_random_string(32)
        worker_heartbeat(worker_id=worker_id)
        jobs_recover_lost()
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(worker_id, stop), daemon=True)
        beat.start()
        self.stdout.write(f"Townhall worker {worker_id} started")
        worker = Worker(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name=BACKEND,
            startup_delay=not batch,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        try:
            worker.run()
        finally:
            stop.set()
            beat.join(timeout=HEARTBEAT_EVERY + 1)
            worker_stopped(worker_id=worker_id)
