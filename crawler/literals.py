"""What a module declares as literals, read from its source without running it: how the CLI
shows every command's help line, and `newscrawl sites` lists the spider modules' sites,
without importing what those modules import (a spider module imports Scrapy and trafilatura:
half a second)."""

from __future__ import annotations

import ast
import importlib.util

# The value of a name assigned something other than a literal (a call, another name).
NOT_LITERAL = object()


def module_literals(module: str) -> dict[str, object]:
    """The module's top-level assignments, NAME = value: the value when it is a literal, else NOT_LITERAL."""
    return _assignments(_source(module).body)


def class_literals(module: str) -> dict[str, dict[str, object]]:
    """The assignments in the body of each class the module defines, by class name, as module_literals."""
    return {statement.name: _assignments(statement.body) for statement in _source(module).body
            if isinstance(statement, ast.ClassDef)}


def _source(module: str) -> ast.Module:
    source = importlib.util.find_spec(module).loader.get_source(module)
    return ast.parse(source)


def _assignments(statements: list[ast.stmt]) -> dict[str, object]:
    found = {}
    for statement in statements:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name):
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                found[target.id] = NOT_LITERAL
    return found
