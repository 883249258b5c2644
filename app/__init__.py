"""The evfleet studio: a Streamlit dashboard over a workspace (``evfleet ui dashboard``).

``app/main.py`` is the entry file; ``app/views/`` holds one module per page. Pages read the
workspace through :mod:`evfleet.storage` and its read-only catalog, compute their tables
with :mod:`evfleet.analytics` and launch stages as background ``evfleet`` runs.
"""
