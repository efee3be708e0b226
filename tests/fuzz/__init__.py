"""Fuzzing harness: mutated shipped scenarios and mutated example CSVs for every ``eralpha fit`` command.

The property (issue 12, item 2): every input gives either a correct result or exit status 2 with a
one-line message naming the file, the field (or row and column) and what would be valid — never a
traceback, never exit 0 with NaN / negative / empty results the input did not justify.

Run the fast profile with the rest of the suite, the long one on its own::

    pytest tests/fuzz                                  # profile "ci" (~500 cases)
    pytest tests/fuzz --hypothesis-profile=long        # >= 10,000 cases
"""
