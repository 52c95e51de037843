from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mamcrawler.accounts"
    label = "accounts"
    verbose_name = "Users and API keys"
