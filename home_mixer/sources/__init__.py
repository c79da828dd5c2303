"""Candidate sources (reference §1.2): in-network (Thunder), out-of-network (retrieval), cache."""
