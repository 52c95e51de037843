"""LOG_FILE: the application log goes to a file (read by system/logs/) unless it is set blank."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = (
    "import django, logging; django.setup(); from django.conf import settings; "
    "logging.getLogger('mamcrawler.system').warning('written to the log file'); "
    "print('LOG_FILE=' + settings.LOG_FILE)"
)


def _run(env: dict) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in {"LOG_FILE", "LOG_DIR", "DATABASE_URL"}}
    return subprocess.run(
        [sys.executable, "-c", CODE],
        env={**clean, "DJANGO_SETTINGS_MODULE": "mamcrawler.settings", "MAMCRAWLER_TESTING": "false", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_by_default_the_log_is_written_under_the_data_directory(tmp_path):
    result = _run({"DATA_DIR": str(tmp_path)})

    assert result.returncode == 0, result.stderr
    log = tmp_path / "logs" / "mamcrawler.log"
    assert f"LOG_FILE={log}" in result.stdout
    assert "WARNING mamcrawler.system [-] written to the log file" in log.read_text()


def test_a_blank_log_file_logs_to_the_console_only(tmp_path):
    result = _run({"DATA_DIR": str(tmp_path), "LOG_FILE": ""})

    assert result.returncode == 0, result.stderr
    assert "LOG_FILE=\n" in result.stdout
    assert "written to the log file" in result.stderr
    assert not (tmp_path / "logs" / "mamcrawler.log").exists()
