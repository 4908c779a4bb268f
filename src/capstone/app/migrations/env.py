"""Alembic's entry point: the migrations run on the connection that
:func:`capstone.app.database.migrate` hands over, each in its own transaction."""

from alembic import context

context.configure(
    connection=context.config.attributes["connection"],
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
