"""Filters, in X's order (reference §7): pre-scoring ones, then post-selection visibility/dedup."""
