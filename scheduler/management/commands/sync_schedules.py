"""Reconcile django-q2 schedules with the job registry."""

from django.core.management.base import BaseCommand

from scheduler.services import schedules_sync


class Command(BaseCommand):
    help = "Create, update or remove django-q2 schedules so they match scheduler/schedules.py."

    def handle(self, *args, **options):
        report = schedules_sync()
        for outcome in ("created", "updated", "deleted", "unchanged"):
            if report[outcome]:
                self.stdout.write(f"{outcome}: {', '.join(report[outcome])}")
        self.stdout.write(self.style.SUCCESS("Schedules in sync."))
