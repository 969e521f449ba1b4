"""How every delivery check ends: its errors on stderr and exit status 1, or
its one-line summary on stdout and 0."""
import sys


def finish(errors, summary):
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    print(summary)
    return 0
