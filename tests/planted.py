"""Planted bugs: a package's model.py with regex edits, as an `edit_files` function for verify."""

import re


def planted(*edits: tuple[str, str]):
    """edit_files applying each (pattern, replacement) to model.py in turn; each pattern must match."""

    def edit(files: dict[str, str]) -> dict[str, str]:
        model = files["model.py"]
        for pattern, replacement in edits:
            changed = re.sub(pattern, replacement, model)
            assert changed != model, f"the planted bug {pattern!r} matched nothing"
            model = changed
        return {**files, "model.py": model}

    return edit
