"""One panel per file: labels, captions, synthesis, training, tagging, browse, log."""
