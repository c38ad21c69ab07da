"""`iep-bot content check`: every content file validated, every screen measured, claims guarded."""
