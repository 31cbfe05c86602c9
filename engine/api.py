"""The project API: the one door both front ends use (placeholder; the lead replaces it)."""
