"""The life of an introduction, declared as data: its states and what moves between them.

    requested ──accept──> accepted ──close──> closed
        ├─decline──> declined
        ├─expire───> expired
        └─close────> closed      (a party left, or the request was withdrawn)

Every change of status is one conditional update in storage that names the states it may
come from (`Store.change_introduction`): of two racing answers exactly one wins, and the
loser is told the request was answered already. Changes that keep the status (a contact
route shared, the relay ended, a follow-up answered) are conditional on the status too.
`docs/flow.md` draws this table (`python -m bot flow-diagram`); a test keeps it in sync.
"""

from __future__ import annotations

from dataclasses import dataclass

REQUESTED = "requested"
ACCEPTED = "accepted"
DECLINED = "declined"
EXPIRED = "expired"
CLOSED = "closed"

STATES = (REQUESTED, ACCEPTED, DECLINED, EXPIRED, CLOSED)
OPEN = frozenset({REQUESTED, ACCEPTED})
ENDED = frozenset({DECLINED, EXPIRED, CLOSED})


@dataclass(frozen=True)
class Transition:
    """`name` moves an introduction from any of `sources` to `target`."""

    name: str
    sources: frozenset[str]
    target: str
    why: str

    @property
    def ends(self) -> bool:
        return self.target in ENDED


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("accept", frozenset({REQUESTED}), ACCEPTED, "the other side says yes"),
        Transition("decline", frozenset({REQUESTED}), DECLINED, "the other side says no"),
        Transition("expire", frozenset({REQUESTED}), EXPIRED, "no answer in 7 days"),
        Transition("close", OPEN, CLOSED, "a party left or was blocked"),
    )
}

ACCEPT = TRANSITIONS["accept"]
DECLINE = TRANSITIONS["decline"]
EXPIRE = TRANSITIONS["expire"]
CLOSE = TRANSITIONS["close"]


def mermaid() -> str:
    """The state diagram of an introduction, drawn from `TRANSITIONS`."""
    lines = ["stateDiagram-v2", f"    [*] --> {REQUESTED}"]
    for transition in TRANSITIONS.values():
        for source in sorted(transition.sources):
            lines.append(f"    {source} --> {transition.target}: {transition.name}")
    lines += [f"    {state} --> [*]" for state in sorted(ENDED)]
    return "\n".join(lines) + "\n"
