"""The reproducible pipeline: its stages (with the cache of their inputs), the papermill runner, and the book."""
