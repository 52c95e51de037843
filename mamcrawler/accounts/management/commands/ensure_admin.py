"""Create the first admin user when there is none (used by ``make run``)."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from mamcrawler.accounts.choices import Role
from mamcrawler.accounts.models import User


class Command(BaseCommand):
    help = "Create an admin user if none exists and print its password once."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=settings.MAMCRAWLER_ADMIN_USERNAME)

    def handle(self, *args, username, **options):
        if User.objects.filter(is_superuser=True).exists() or User.objects.filter(role=Role.ADMIN).exists():
            self.stdout.write("An admin user already exists; its password was printed when it was created.")
            return
        password = settings.MAMCRAWLER_ADMIN_PASSWORD or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password, role=Role.ADMIN)
        self.stdout.write(self.style.SUCCESS("Created the admin user (shown once):"))
        self.stdout.write(f"  username: {username}")
        if settings.MAMCRAWLER_ADMIN_PASSWORD:
            self.stdout.write("  password: the value of MAMCRAWLER_ADMIN_PASSWORD")
        else:
            self.stdout.write(f"  password: {password}")
