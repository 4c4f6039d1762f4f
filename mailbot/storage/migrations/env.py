"""Alembic environment: mailbot passes its engine (or an open connection) in attributes."""

from alembic import context

from mailbot.storage.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is not None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True)
    context.run_migrations()
else:
    with config.attributes["engine"].begin() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata,
                          render_as_batch=True)
        context.run_migrations()
