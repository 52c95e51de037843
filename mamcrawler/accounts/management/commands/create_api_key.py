"""``manage.py create_api_key``: make an API key for a user and print its secret once."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mamcrawler.accounts.choices import Scope
from mamcrawler.accounts.models import User
from mamcrawler.accounts.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a user; the secret is printed alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username of the key's owner.")
        parser.add_argument("--scopes", required=True, help=f"Comma-separated scopes from: {', '.join(Scope.values)}.")
        parser.add_argument("--name", default="cli", help="A label for the key (default: cli).")
        parser.add_argument("--expires-days", type=int, default=None, help="Expire after this many days.")

    def handle(self, *args, user, scopes, name, expires_days, **options):
        owner = User.objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"Unknown user: {user}")
        if not owner.is_active:
            raise CommandError(f"User {user} is inactive; its keys would not authenticate.")
        scope_list = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            key, secret = api_key_create(user=owner, name=name, scopes=scope_list, expires_at=expires_at)
        except ValueError as error:
            raise CommandError(str(error))
        expiry = key.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if key.expires_at else "never"
        self.stdout.write(
            f"Created API key {key.name!r} for {owner.username}: prefix {key.prefix}, "
            f"scopes {','.join(key.scopes)}, expires {expiry}. Store the secret now; it is not shown again:"
        )
        self.stdout.write(secret)
