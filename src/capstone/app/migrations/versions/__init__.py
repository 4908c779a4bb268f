"""Schema versions 1, 2, ... of the app's database, in order (``down_revision``)."""
