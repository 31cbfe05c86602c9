"""Dialogs: preferences, the one error dialog, about."""
