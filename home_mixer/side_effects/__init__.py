"""Side effects after the response (reference §1.2): served history, impressions, cache, `served` event."""
