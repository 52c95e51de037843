from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "mamcrawler.audit"
    label = "audit"
    verbose_name = "Audit log"
