"""A job lock in the database: one row per job name, taken over only once it has expired."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from scheduler.models import JobLock, JobRun


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lock_acquire(*, name: str, run: JobRun, ttl_seconds: int) -> bool:
    """Take the lock of job ``name`` for ``run``; False when a live holder has it.

    Works across processes and hosts: creation is guarded by the primary key, and a
    takeover is a conditional UPDATE that only matches an expired lock.
    """
    now = timezone.now()
    values = {
        "run": run,
        "owner": worker_name(),
        "acquired_at": now,
        "expires_at": now + timedelta(seconds=ttl_seconds),
    }
    try:
        with transaction.atomic():
            JobLock.objects.create(name=name, **values)
        return True
    except IntegrityError:
        return JobLock.objects.filter(name=name, expires_at__lt=now).update(**values) == 1


def lock_release(*, name: str, run: JobRun) -> None:
    """Give the lock back, if ``run`` still holds it."""
    JobLock.objects.filter(name=name, run=run).delete()


def lock_holder(name: str) -> JobLock | None:
    """The live lock of job ``name``, or None."""
    return JobLock.objects.filter(name=name, expires_at__gte=timezone.now()).first()
