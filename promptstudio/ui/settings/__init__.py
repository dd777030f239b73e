"""The settings dialog and its Providers page."""
