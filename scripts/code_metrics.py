"""Code-health figures for the closing note: function lengths and SQL outside the warehouse layer.

Usage: python scripts/code_metrics.py [PACKAGE_DIR]   (default: ticket_intel)
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import numpy as np

SQL = re.compile(r"^\s*(SELECT|INSERT|DELETE|UPDATE|CREATE|ALTER|DROP|WITH|ATTACH)\b.*\b(FROM|INTO|TABLE|SCHEMA|WHERE)\b"
                 r"|^\s*(BEGIN|COMMIT|ROLLBACK)( TRANSACTION)?\s*$", re.I | re.S)


def functions(root: Path) -> list[tuple[int, str]]:
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out.append((node.end_lineno - node.lineno + 1, f"{path}:{node.lineno} {node.name}"))
    return sorted(out, reverse=True)


def sql_outside_warehouse(root: Path) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        if "warehouse" in path.parts or path.name == "warehouse.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
                out.append(f"{path}:{node.lineno}")
    return out


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "ticket_intel")
    lengths = functions(root)
    sizes = np.array([n for n, _ in lengths])
    sql = sql_outside_warehouse(root)
    print(f"functions: {len(sizes)}, longest {sizes.max()} lines ({lengths[0][1]}), "
          f"95th percentile {np.percentile(sizes, 95):.0f}, median {np.median(sizes):.0f}")
    for n, where in lengths[:8]:
        print(f"  {n:4d}  {where}")
    print(f"SQL statements outside the warehouse layer: {len(sql)}")
    for where in sql:
        print(f"  {where}")


if __name__ == "__main__":
    main()
