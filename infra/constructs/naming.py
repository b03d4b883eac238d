import re


def camel(snake: str) -> str:
    return "".join(part.title() for part in snake.split("_"))


def snake(camel_case: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel_case).lower()
