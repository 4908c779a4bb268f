"""The app database's migrations, run by Alembic (:func:`capstone.app.database.migrate`): one
file a schema version in ``versions/``, each bringing a database of the version before up to
its own, on SQLite and PostgreSQL alike."""
