"""Admin for jobs: run history (read-only), schedule changes that re-sync, and "Run now" on schedules."""

from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html
from django_q import admin as q_admin
from django_q.models import Schedule, Task

from mamcrawler.api.exceptions import Conflict
from scheduler import schedules
from scheduler.choices import Trigger
from scheduler.models import JobLock, JobRun, JobSetting, WorkerHeartbeat
from scheduler.services import OFF, job_update, jobs_enqueue, run_cancel, schedules_sync
from scheduler.timing import parse_timing

SKIP_REASONS = {"running": "already running", "not_declared": "not a declared job", "disabled": "disabled"}


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the system writes; people look at them (and may delete them), never edit them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "job",
        "trigger",
        "status",
        "queued_at",
        "duration_seconds",
        "processed",
        "failed",
        "requested_by",
        "task",
    )
    list_filter = ("job", "status", "trigger")
    search_fields = ("job", "error", "request_id")
    list_select_related = ("requested_by",)
    readonly_fields = ("task",)
    date_hierarchy = "queued_at"
    actions = ("cancel_runs",)

    def get_queryset(self, request):
        # Whether django-q2 kept the task as a success or a failure decides which page to link.
        outcome = Task.objects.filter(id=OuterRef("task_id")).values("success")[:1]
        return super().get_queryset(request).annotate(task_success=Subquery(outcome))

    @admin.display(description="django-q2 task")
    def task(self, run):
        if not run.task_id:
            return "-"
        if run.task_success is None:  # still queued, or pruned by django-q2's save limit
            return run.task_id
        page = "django_q_success_change" if run.task_success else "django_q_failure_change"
        return format_html('<a href="{}">{}</a>', reverse(f"admin:{page}", args=[run.task_id]), run.task_id)

    @admin.action(description="Cancel selected runs")
    def cancel_runs(self, request, queryset):
        cancelled, finished = 0, 0
        for run in queryset:
            try:
                run_cancel(run=run)
                cancelled += 1
            except Conflict:
                finished += 1
        self.message_user(request, f"Cancelled {cancelled} run(s).", messages.SUCCESS)
        if finished:
            self.message_user(request, f"{finished} run(s) had already finished.", messages.WARNING)


class JobSettingForm(forms.ModelForm):
    """A job chosen from the registry and a schedule that parses."""

    class Meta:
        model = JobSetting
        fields = ("name", "schedule", "enabled")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "name" in self.fields:
            self.fields["name"] = forms.ChoiceField(choices=[(name, name) for name in schedules.JOBS])

    def clean_schedule(self):
        value = (self.cleaned_data.get("schedule") or "").strip()
        if value and value.lower() != OFF:
            try:
                parse_timing(value)
            except ValueError as error:
                raise forms.ValidationError(str(error))
        return value


@admin.register(JobSetting)
class JobSettingAdmin(admin.ModelAdmin):
    """A change here is applied to the django-q2 schedule at once (``job_update``)."""

    form = JobSettingForm
    list_display = ("name", "schedule", "enabled", "updated_at", "updated_by")
    list_select_related = ("updated_by",)
    search_fields = ("name", "schedule")

    def get_readonly_fields(self, request, obj=None):
        return ("name", "updated_at", "updated_by") if obj else ("updated_at", "updated_by")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        job_update(name=obj.name, schedule=obj.schedule, enabled=obj.enabled, user=request.user)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        schedules_sync()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        schedules_sync()


@admin.register(JobLock)
class JobLockAdmin(ReadOnlyAdmin):
    """Deleting a lock frees a job whose worker died before the lock expired."""

    list_display = ("name", "owner", "run", "acquired_at", "expires_at")
    list_select_related = ("run",)
    search_fields = ("name", "owner")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("worker", "seen_at")
    search_fields = ("worker",)


admin.site.unregister(Schedule)


@admin.register(Schedule)
class ScheduleAdmin(q_admin.ScheduleAdmin):
    """django-q2's schedule admin, plus "Run now" for the schedules of our jobs."""

    actions = ("run_now",)

    @admin.action(description="Run now")
    def run_now(self, request, queryset):
        queued, skipped = jobs_enqueue(
            names=[schedule.name for schedule in queryset], trigger=Trigger.ADMIN, user=request.user
        )
        if queued:
            names = ", ".join(f"{run.job} (run {run.pk})" for run in queued)
            self.message_user(request, f"Queued {names}.", messages.SUCCESS)
        if skipped:
            names = ", ".join(f"{item['job']} ({SKIP_REASONS[item['reason']]})" for item in skipped)
            self.message_user(request, f"Skipped {names}.", messages.WARNING)
