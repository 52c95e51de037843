import logging

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_after_migrate(sender, **kwargs):
    from scheduler.services import schedules_sync

    schedules_sync()


def _worker_spawned(sender, proc_name, **kwargs):
    # A fresh worker says it is alive at once instead of at the next heartbeat schedule.
    from scheduler.runner import heartbeat_beat

    try:
        heartbeat_beat()
    except Exception:  # noqa: BLE001 - a heartbeat must never stop a worker from starting
        logging.getLogger("mamcrawler.scheduler").exception("Heartbeat on worker start failed")


class SchedulerConfig(AppConfig):
    name = "scheduler"
    verbose_name = "Scheduler"

    def ready(self):
        # After every migrate, django-q2's schedules match the registry in scheduler/schedules.py.
        post_migrate.connect(_sync_after_migrate, sender=self, dispatch_uid="scheduler-sync-schedules")
        from django_q.signals import post_spawn

        post_spawn.connect(_worker_spawned, dispatch_uid="scheduler-heartbeat-on-spawn")
