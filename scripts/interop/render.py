#!/usr/bin/env python3
"""Fill @NAME@ placeholders in a template: render.py SRC DST NAME=VALUE ..."""
import re
import sys


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: render.py SRC DST NAME=VALUE ...", file=sys.stderr)
        return 2
    src, dst, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            print(f"render.py: bad argument {pair!r}", file=sys.stderr)
            return 2
        values[name] = value
    with open(src, encoding="utf-8") as fh:
        text = fh.read()

    missing = set()

    def sub(m: "re.Match[str]") -> str:
        name = m.group(1)
        if name not in values:
            missing.add(name)
            return m.group(0)
        return values[name]

    text = re.sub(r"@([A-Z][A-Z0-9_]*)@", sub, text)
    if missing:
        print(f"render.py: {src}: no value for {', '.join(sorted(missing))}", file=sys.stderr)
        return 1
    with open(dst, "w", encoding="utf-8") as fh:
        fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
