"""The history pane: a prompt's versions, their model, and the side-by-side diff view."""
