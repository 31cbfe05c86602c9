"""Evaluation: multi-label metrics and readers for the public benchmark layouts."""
