"""Alembic migrations; `yishiting init` (and `serve`) run them to the newest revision."""
