"""The prompt editor: the template editor, its highlighters, find bar and variables form."""
