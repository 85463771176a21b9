"""Check that libopstatus.so exports exactly the functions opstatus.h declares.

Usage: python3 check_exports.py HEADER LIBRARY

The header's declarations are found after comments are removed: every
"opstatus_name(" that is not a function pointer typedef. The exported names
come from "nm -D --defined-only". Both sets must be equal, so a function
cannot be added to one side and forgotten on the other.
"""

import re
import subprocess
import sys


def declared_functions(header_text: str) -> set[str]:
    """Return the names of the functions that the header declares."""
    without_comments = re.sub(r"/\*.*?\*/", " ", header_text, flags=re.DOTALL)
    without_comments = re.sub(r"//[^\n]*", " ", without_comments)
    without_macros = re.sub(r"^\s*#.*?(?<!\\)$", " ", without_comments, flags=re.MULTILINE | re.DOTALL)
    names = set()
    for match in re.finditer(r"(\(\s*\*\s*)?\b(opstatus_\w+)\s*\(", without_macros):
        if match.group(1) is None:
            names.add(match.group(2))
    return names


def exported_symbols(library: str) -> set[str]:
    """Return the names of the symbols that the library defines dynamically."""
    output = subprocess.run(
        ["nm", "-D", "--defined-only", library], check=True, capture_output=True, text=True
    ).stdout
    return {line.split()[-1] for line in output.splitlines() if line.strip()}


def main() -> int:
    header, library = sys.argv[1], sys.argv[2]
    with open(header, encoding="utf-8") as file:
        declared = declared_functions(file.read())
    exported = exported_symbols(library)

    missing = sorted(declared - exported)
    extra = sorted(exported - declared)
    for name in missing:
        print(f"declared in {header} but not exported: {name}")
    for name in extra:
        print(f"exported but not declared in {header}: {name}")
    if missing or extra:
        return 1
    print(f"{len(declared)} functions: the header and the exported symbols agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
