"""The manager's app (Streamlit): its database, its jobs and worker processes, the demo library,
and its pages."""
