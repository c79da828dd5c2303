"""Query hydrators: fill the request's user features before retrieval (reference §1.2)."""
