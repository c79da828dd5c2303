"""Scorers, run in order (reference §6): ranker -> weighted score -> cold start -> author
diversity -> out-of-network discount -> ranker-down fallback -> optional DPP re-ranker."""
