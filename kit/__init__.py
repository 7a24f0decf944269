"""The kit every feature stands on: settings, services, the durable job worker, the lead card and
the one way back to Slack, field types, grammars, formatting and ids. It never imports a feature."""
