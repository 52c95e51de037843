"""Fault tests (SPEC §11): each fault ends in a recorded, readable error and a state the next run continues from.

Scenario → test (``file::function``; parametrised tests cover every mode named):

1. External services time out, answer 500, answer 429 with ``Retry-After`` (honoured: one
   wait of exactly that long, no hammering), answer HTML, answer truncated JSON — driven
   through the real jobs, with counts before/after and a healthy next run:

   - OpenLibrary, Google Books, Hardcover, Audnexus under ``metadata_refresh``:
     ``test_provider_faults.py::test_a_failing_provider_degrades_the_refresh_and_the_next_run_corrects_the_book``
   - Hardcover under ``gap_analysis``:
     ``test_provider_faults.py::test_a_failing_series_provider_leaves_the_series_unchecked_and_the_next_analysis_finds_its_gaps``
   - MAM under ``mam_account``:
     ``test_mam_faults.py::test_a_failing_account_request_fails_the_snapshot_run_and_the_next_run_takes_it``
   - MAM under ``acquire_wanted``:
     ``test_mam_faults.py::test_a_failing_search_queues_nothing_and_the_next_acquire_queues_each_gap_once``
   - Audiobookshelf under ``abs_sync``:
     ``test_abs_faults.py::test_a_failing_library_list_fails_the_sync_and_the_next_run_imports_everything``,
     ``test_abs_faults.py::test_one_failing_library_is_recorded_the_other_imported_and_the_next_run_completes``
   - Also, per client: ``tests/library/test_providers_failures.py`` (retries, circuit breaker,
     stale cache), ``tests/library/test_abs_client.py::test_429_waits_as_long_as_retry_after_asks``,
     ``tests/library/test_abs_sync.py::test_a_page_that_times_out_once_is_retried_and_the_run_completes``,
     ``tests/downloads/test_end_to_end.py::test_an_expired_mam_session_stops_the_run_with_one_error``.

2. qBittorrent killed (SIGKILL) and restarted while a download is followed:
   ``test_qbittorrent_restart.py::test_qbittorrent_killed_while_downloading_loses_nothing_and_imports_once``;
   stopped before submission:
   ``tests/downloads/test_end_to_end.py::test_qbittorrent_stopped_mid_run_leaves_the_download_queued_and_the_next_run_completes_it``.

3. SQLite ``database is locked`` with a second writer (file database, ``manage.py`` in a subprocess):
   ``test_sqlite_locked.py::test_a_lock_shorter_than_the_busy_timeout_is_waited_out``,
   ``test_sqlite_locked.py::test_a_lock_longer_than_the_busy_timeout_is_recorded_and_the_next_run_does_the_work``.

4. Disk full (ENOSPC) on import: the import function
   ``tests/downloads/test_importing.py::test_a_write_error_leaves_no_partial_files``; the job path
   ``test_disk_full.py::test_a_full_disk_fails_the_import_with_a_retry_and_the_retry_imports_once``.

5. Concurrency (PostgreSQL):

   - two ``acquire_wanted`` runs:
     ``test_concurrency.py::test_two_acquire_runs_at_once_one_runs_and_each_gap_gets_one_download``;
   - two racing acquire bodies:
     ``test_concurrency.py::test_two_acquire_bodies_racing_past_the_job_lock_still_queue_each_torrent_once``;
   - two monitors:
     ``tests/downloads/test_monitor.py::test_two_workers_monitoring_at_once_submit_and_import_each_download_once``;
   - claims: ``tests/downloads/test_claim.py::test_concurrent_claims_on_postgresql_get_disjoint_sets``;
   - throttle budget across two gunicorn workers:
     ``tests/api/test_shared_budget.py::test_two_workers_admit_the_budget_once``.

Also here: ``test_authentication_walk.py`` (every endpoint refuses anonymous requests; see SECURITY.md).
"""
