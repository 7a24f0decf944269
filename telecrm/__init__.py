"""TeleCRM: the HTTP client, the workspace model and the sandbox. Never imports Slack code; what it
assumes about the API is in docs/TELECRM.md."""
