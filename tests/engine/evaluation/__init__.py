"""Tests for engine/evaluation."""
