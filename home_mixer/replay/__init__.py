"""Offline replay evaluation: rebuild state from an event log in time order, run pipeline
configurations as of each request point with the serving stage code, and compare what they would
have served with what users actually did."""
