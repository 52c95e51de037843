"""System-wide state shared by every process."""

from django.db import models


class ThrottleCounter(models.Model):
    """Requests counted in one throttle window, when no Redis cache is configured.

    Incremented with one atomic upsert so that several server processes share one budget.
    """

    key = models.CharField(max_length=200, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.FloatField(db_index=True, help_text="Unix time after which the row is stale.")

    def __str__(self):
        return f"{self.key}={self.count}"
