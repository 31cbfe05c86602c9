"""Tagging and synthesis on a Ray cluster (the optional [cluster] extra); Ray is imported only inside functions."""
