from django.apps import AppConfig


class SystemConfig(AppConfig):
    name = "mamcrawler.system"
    label = "system"
    verbose_name = "System"
