"""The table format the authorization matrices are written in, and its parser.

A table is blocks separated by blank lines. A block's first line names the route or the
event; its second line is `actor` and then the room kinds its columns are for (`public
private direct`, or `any` where no room is involved); then one line per actor. A cell is
what that actor gets there: a status alone for a success (`200`), `status:code` for an
error (`404:not_found`), or a word the matrix defines (`refused`, `ok`).
"""

from __future__ import annotations

from collections.abc import Sequence

from authz_world import ACTORS

Cell = tuple[str, str, str]  # (route or event, actor, room kind or "any")


def parse_table(
    text: str, kinds: Sequence[str] = ("public", "private", "direct")
) -> dict[Cell, str]:
    table: dict[Cell, str] = {}
    for block in filter(None, text.strip().split("\n\n")):
        lines = [line.split("#", 1)[0].rstrip() for line in block.strip().splitlines()]
        lines = [line for line in lines if line.strip()]
        if not lines:
            continue
        name, header, *rows = lines
        columns = header.split()
        assert columns[0] == "actor", f"{name}: the second line is 'actor <kinds>'"
        columns = columns[1:]
        assert columns in (list(kinds), ["any"]), f"{name}: columns {columns}"
        seen = [row.split()[0] for row in rows]
        assert seen == list(ACTORS), f"{name}: rows must be the actors in order, got {seen}"
        for row in rows:
            actor, *cells = row.split()
            assert len(cells) == len(columns), f"{name} / {actor}: {cells}"
            for column, cell in zip(columns, cells, strict=True):
                key = (name.strip(), actor, column)
                assert key not in table, f"{key} twice"
                table[key] = cell
    return table


def render_table(results: dict[Cell, str], kinds: Sequence[str]) -> str:
    """The table text for these results (to write a new block, then check it by eye)."""
    names = list(dict.fromkeys(name for name, _, _ in results))
    blocks = []
    for name in names:
        columns = [k for k in (*kinds, "any") if (name, ACTORS[0], k) in results]
        width = max(len(results[(name, a, k)]) for a in ACTORS for k in columns) + 2
        lines = [name, "actor".ljust(10) + "".join(k.ljust(width) for k in columns).rstrip()]
        for actor in ACTORS:
            cells = "".join(results[(name, actor, k)].ljust(width) for k in columns)
            lines.append((actor.ljust(10) + cells).rstrip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
