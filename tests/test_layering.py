"""The project's layering, checked on the source: what the law says (``regulations``) never
depends on what organizations do (``obligations``); the dependency runs one way only."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_regulations_never_imports_obligations():
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path) if m.split(".")[0] == "obligations")
        for path in (ROOT / "regulations").rglob("*.py")
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_the_check_sees_imports_inside_functions_too(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from obligations.services import checklist\n    import obligations.models\n")
    assert imported_modules(sample) == {"obligations.services", "obligations.models"}
