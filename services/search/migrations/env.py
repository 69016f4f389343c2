"""Alembic environment of the search service (its own database, its own history)."""
from alembic import context

from services.common.migrations import run_env
from services.search.models import Base

run_env(context, Base.metadata)
