"""library's tasks: `inv --list`, from [tool.suitekit] in pyproject.toml."""

from suitekit.invoke import ns as ns
