"""JobRun and the schedule registry arrive with the scheduler issue."""
