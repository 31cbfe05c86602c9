"""Bundled icons (SVG)."""
