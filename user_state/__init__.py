"""User state in Redis: the ingest of engagement / social-graph / post events and the reader the
feed pipeline and retrieval use."""
