"""Optional server-side conversation history (SQLAlchemy + Alembic)."""
