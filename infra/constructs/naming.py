def camel(snake: str) -> str:
    """Construct ids: `prepare_recall` -> `PrepareRecall`."""
    return "".join(part.title() for part in snake.split("_"))
