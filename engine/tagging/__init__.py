"""Batch tagging of photo folders with an exported ONNX model into the SQLite TagStore."""
