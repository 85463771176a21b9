"""Print the first fenced code block of a language under a README heading.

Usage: python3 extract_block.py README HEADING LANGUAGE

The quick starts in the README are run by the tests exactly as written, so
the tests take them from the README instead of keeping copies.
"""

import sys


def extract_block(text: str, heading: str, language: str) -> str:
    """Return the first ```LANGUAGE block after the line '## HEADING'."""
    lines = text.splitlines()
    try:
        start = lines.index(f"## {heading}")
    except ValueError:
        raise SystemExit(f"extract_block: no heading '## {heading}' in the README") from None

    inside = False
    block: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("## ") and not inside:
            break
        if not inside and line.strip() == f"```{language}":
            inside = True
            continue
        if inside and line.strip() == "```":
            return "\n".join(block) + "\n"
        if inside:
            block.append(line)
    raise SystemExit(f"extract_block: no ```{language} block under '## {heading}'")


def main() -> None:
    readme, heading, language = sys.argv[1:4]
    with open(readme, encoding="utf-8") as file:
        sys.stdout.write(extract_block(file.read(), heading, language))


if __name__ == "__main__":
    main()
