"""The rideshare demo's shared code: the vehicle searches every server variant runs, and their settings."""
