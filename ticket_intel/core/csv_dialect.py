"""How a delimited text file separates its fields, read from its header line.

Spreadsheets save "CSV" with a comma, a tab (TSV, Excel's "Unicode text") or, where the decimal
separator is a comma, a semicolon; some exports use a pipe. The header line's most frequent of
these is the separator (a comma wins a tie): column names rarely hold any of them.
"""

from __future__ import annotations

DELIMITERS = (",", "\t", ";", "|")


def delimiter_of(header_line: str) -> str:
    return max(DELIMITERS, key=header_line.count)
