"""Alembic environment of the purchases service (its own database, its own history)."""
from alembic import context

from services.common.migrations import run_env
from services.purchases.models import Base

run_env(context, Base.metadata)
