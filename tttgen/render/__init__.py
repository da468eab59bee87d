"""IR -> {path: text}: view-models, Jinja templates, black. Pure: no file I/O."""
