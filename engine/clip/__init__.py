"""Frozen CLIP backbone with dense features, the prompt learner, the adapter and the T2I-PAL model."""
