"""Alembic environment of the shops service (its own database, its own history)."""
from alembic import context

from services.common.migrations import run_env
from services.shops.models import Base

run_env(context, Base.metadata)
