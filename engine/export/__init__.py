"""ONNX export of a trained tagger: one file with metadata inside, checked against torch."""
