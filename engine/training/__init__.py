"""Feature caching, the ranking loss, the training loop with checkpoints, and the end-to-end train job."""
