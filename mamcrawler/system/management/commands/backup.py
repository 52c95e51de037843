"""``manage.py backup [--output FILE] [--with-cache]``: write a backup archive now.

Runs the ``backup`` job in this process (a JobRun with trigger ``command``).  Without
``--output`` the archive goes to ``BACKUP_DIR`` as ``mamcrawler-backup-<UTC time>.zip`` and
only the newest ``BACKUP_KEEP`` archives there are kept.  The archive holds the library,
downloads (with torrent files), MAM account snapshots, job settings, schedules and history,
users (password hashes), API keys (hashes only), the audit log and notification targets —
never the MAM session cookie.  Keep it private.  ``manage.py restore FILE`` loads it.
"""

from pathlib import Path

from mamcrawler.backup.services import backup_default_path
from scheduler.commands import JobCommand


class Command(JobCommand):
    help = "Write a backup archive of the whole instance (the backup job), now."

    job_name = "backup"

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            metavar="FILE",
            help="Write the archive here (a .zip; a directory gets a timestamped name). Default: BACKUP_DIR.",
        )
        parser.add_argument("--with-cache", action="store_true", help="Also back up the metadata provider cache.")

    def get_params(self, options) -> dict:
        output = ""
        if options["output"]:
            path = Path(options["output"]).expanduser().resolve()
            if path.is_dir():
                path = path / backup_default_path().name
            output = str(path)
        return {"output": output, "with_cache": options["with_cache"]}
