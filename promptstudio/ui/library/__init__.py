"""The library pane: the folder tree and its model, quick open, and the search results."""
