"""Candidate hydrators (reference §1.2): per-candidate data, one result per candidate, same order."""
