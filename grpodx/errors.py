"""The one error type users see for bad configuration or input."""


class ConfigError(ValueError):
    """A bad value in a named field, with the fix; train.py prints it as one line and exits 2."""

    def __init__(self, field: str, problem: str, fix: str):
        self.field, self.problem, self.fix = field, problem, fix
        super().__init__(f"{field}: {problem} -- {fix}")
