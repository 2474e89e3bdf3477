"""Event sources and front doors: schedules, HTTP proxy integrations, S3 notifications."""
