"""Alembic environment of the mailhistory service (its own database, its own history)."""
from alembic import context

from services.common.migrations import run_env
from services.mailhistory.models import Base

run_env(context, Base.metadata)
