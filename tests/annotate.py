"""Adds the type hints mypy --strict asks of the tests where they follow from the code alone.

Run from the project root: python tests/annotate.py [files...] (default: every test file),
then `ruff check --fix` and `ruff format` (it leaves import order and line length to
them). Two rewrites, each only where it is certain:

- a function whose parameters all have hints and that returns nothing (no `return
  value`, no `yield`) gets `-> None`;
- a module-level `test_*` function with none of its own gets each parameter typed as the
  fixture of that name returns (read from the conftest.py files above it and from the
  module itself, or pytest's own fixtures) and `-> None`, with the imports those types
  need. A parameter that is not a known fixture (parametrized, or a fixture without a
  return type) leaves the whole function as it was.

It never changes what a test does: only signatures and imports.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"

BUILTIN_NAMES = {"str", "int", "float", "bool", "bytes", "dict", "list", "tuple", "set", "None"}
PYTEST_FIXTURES = {
    "tmp_path": ("Path", {"Path": "from pathlib import Path"}),
    "tmp_path_factory": ("pytest.TempPathFactory", {"pytest": "import pytest"}),
    "monkeypatch": ("pytest.MonkeyPatch", {"pytest": "import pytest"}),
    "request": ("pytest.FixtureRequest", {"pytest": "import pytest"}),
    "capsys": ("pytest.CaptureFixture[str]", {"pytest": "import pytest"}),
    "caplog": ("pytest.LogCaptureFixture", {"pytest": "import pytest"}),
}
YIELDING = {"Iterator", "Generator", "collections.abc.Iterator", "collections.abc.Generator"}


@dataclass
class Module:
    """One file's bindings: what each imported name comes from, and its type aliases."""

    path: Path
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # bound name -> import line
    aliases: dict[str, ast.expr] = field(default_factory=dict)
    others: set[str] = field(default_factory=set)  # names bound some other way

    @classmethod
    def read(cls, path: Path) -> Module:
        module = cls(path, ast.parse(path.read_text()))
        for node in module.tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    bound = alias.asname or alias.name
                    line = f"from {node.module} import {alias.name}"
                    module.imports[bound] = line + (f" as {alias.asname}" if alias.asname else "")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    module.imports[bound] = f"import {alias.name}" + (
                        f" as {alias.asname}" if alias.asname else ""
                    )
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                module.aliases[node.targets[0].id] = node.value
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                module.others.add(node.name)
        return module

    def resolve(self, annotation: ast.expr) -> tuple[str, dict[str, str]] | None:
        """The annotation's text with aliases expanded, and the imports it needs; None when
        a name in it cannot be imported elsewhere."""
        needed: dict[str, str] = {}

        class Expand(ast.NodeTransformer):
            failed = False

            def visit_Name(self, node: ast.Name) -> ast.AST:
                name = node.id
                if name in BUILTIN_NAMES:
                    return node
                if name in outer.imports:
                    needed[name] = outer.imports[name]
                    return node
                if name in outer.aliases:
                    return self.visit(ast.parse(ast.unparse(outer.aliases[name]), mode="eval").body)
                self.failed = True
                return node

        outer = self
        expand = Expand()
        expanded = expand.visit(ast.parse(ast.unparse(annotation), mode="eval").body)
        if expand.failed:
            return None
        return ast.unparse(expanded), needed


def fixture_name(node: ast.FunctionDef) -> str | None:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if ast.unparse(target) not in ("pytest.fixture", "fixture"):
            continue
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
        return node.name
    return None


def fixtures_of(module: Module) -> dict[str, tuple[str, dict[str, str]] | None]:
    found: dict[str, tuple[str, dict[str, str]] | None] = {}
    for node in module.tree.body:
        if not isinstance(node, ast.FunctionDef) or (name := fixture_name(node)) is None:
            continue
        if node.returns is None:
            found[name] = None
            continue
        annotation = node.returns
        if yields(node):
            # A yield fixture gives the type its Iterator[...] or Generator[...] yields.
            if not (
                isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) in YIELDING
            ):
                found[name] = None
                continue
            inner = annotation.slice
            annotation = inner.elts[0] if isinstance(inner, ast.Tuple) else inner
        found[name] = module.resolve(annotation)
    return found


def own_nodes(node: ast.AST) -> list[ast.AST]:
    """The nodes of a function's body, leaving out nested functions, lambdas and classes."""
    result: list[ast.AST] = []
    pending = list(ast.iter_child_nodes(node))
    while pending:
        item = pending.pop()
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        result.append(item)
        pending.extend(ast.iter_child_nodes(item))
    return result


def yields(node: ast.FunctionDef) -> bool:
    return any(isinstance(item, ast.Yield | ast.YieldFrom) for item in own_nodes(node))


def returns_nothing(node: ast.FunctionDef) -> bool:
    for item in own_nodes(node):
        if isinstance(item, ast.Yield | ast.YieldFrom):
            return False
        if (
            isinstance(item, ast.Return)
            and item.value is not None
            and not (isinstance(item.value, ast.Constant) and item.value.value is None)
        ):
            return False
    return True


def parameters(node: ast.FunctionDef) -> list[ast.arg]:
    args = node.args
    return [*args.posonlyargs, *args.args, *args.kwonlyargs]


def header_lines(lines: list[str], node: ast.FunctionDef) -> tuple[int, int] | None:
    """The first and last line (0-based) of the `def ...:` header, if it stands alone."""
    first, last = node.lineno - 1, node.body[0].lineno - 2
    if isinstance(node.body[0], ast.Expr) and node.body[0].lineno - 1 <= first:
        return None
    if last < first or any("#" in line for line in lines[first : last + 1]):
        return None
    if not lines[last].rstrip().endswith(":"):
        return None
    return first, last


def conftests_for(path: Path) -> list[Path]:
    found = []
    directory = path.parent
    while True:
        conftest = directory / "conftest.py"
        if conftest.exists():
            found.append(conftest)
        if directory == TESTS:
            break
        directory = directory.parent
    return list(reversed(found))  # the outermost first, so that nearer ones win


def annotate(path: Path, conftests: dict[Path, Module]) -> int:
    module = Module.read(path)
    known: dict[str, tuple[str, dict[str, str]] | None] = {
        name: (text, dict(imports)) for name, (text, imports) in PYTEST_FIXTURES.items()
    }
    for conftest in conftests_for(path):
        known.update(fixtures_of(conftests.setdefault(conftest, Module.read(conftest))))
    known.update(fixtures_of(module))

    lines = path.read_text().splitlines(keepends=True)
    new_imports: set[str] = set()
    changes = 0
    functions = [
        node
        for node in ast.walk(module.tree)
        if isinstance(node, ast.FunctionDef) and node.returns is None
    ]
    top_level = {id(node) for node in module.tree.body}
    for node in sorted(functions, key=lambda n: n.lineno, reverse=True):
        params = parameters(node)
        if node.args.vararg or node.args.kwarg or not returns_nothing(node):
            continue
        span = header_lines(lines, node)
        if span is None:
            continue
        first, last = span
        is_method = params and params[0].arg in ("self", "cls") and id(node) not in top_level
        typed = params[1:] if is_method else params
        if all(param.annotation is not None for param in typed):
            # Only `-> None` is missing: put it before the header's closing colon.
            line = lines[last].rstrip("\n")
            stripped = line.rstrip()
            if not stripped.endswith("):"):
                continue
            lines[last] = stripped[:-1] + " -> None:" + line[len(stripped) :] + "\n"
            changes += 1
            continue
        if (
            id(node) not in top_level
            or not node.name.startswith("test_")
            or any(param.annotation is not None for param in params)
            or node.args.defaults
            or node.args.kw_defaults
            or any("parametrize" in ast.unparse(d) for d in node.decorator_list)
        ):
            continue
        hints = [known.get(param.arg) for param in params]
        if any(hint is None for hint in hints):
            continue
        imports: dict[str, str] = {}
        texts = []
        for param, hint in zip(params, hints, strict=True):
            assert hint is not None
            text, needed = hint
            texts.append(f"{param.arg}: {text}")
            imports.update(needed)
        clash = False
        for name, line in imports.items():
            if name in module.imports:
                clash = clash or module.imports[name] != line
            elif name in module.aliases or name in module.others:
                clash = True
        if clash:
            continue
        indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
        lines[first : last + 1] = [f"{indent}def {node.name}({', '.join(texts)}) -> None:\n"]
        new_imports.update(line for name, line in imports.items() if name not in module.imports)
        changes += 1
    if new_imports:
        # After the last top-level import; ruff sorts them into their places.
        last_import = max(
            node.end_lineno or node.lineno
            for node in module.tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
        )
        lines[last_import:last_import] = [line + "\n" for line in sorted(new_imports)]
    if changes:
        path.write_text("".join(lines))
    return changes


def main(argv: list[str]) -> None:
    paths = [Path(a).resolve() for a in argv] or sorted(TESTS.rglob("*.py"))
    conftests: dict[Path, Module] = {}
    total = 0
    for path in paths:
        if path == Path(__file__).resolve():
            continue
        count = annotate(path, conftests)
        if count:
            print(f"{path.relative_to(ROOT)}: {count}")
        total += count
    print(f"{total} functions annotated")


if __name__ == "__main__":
    main(sys.argv[1:])
