"""Storage verbs for linking a second chat to a person ("koppel").

A link code is kept only as its SHA-256 hash, with its expiry and whether it was used.
Wrong codes are counted per chat under a hash of channel and platform id, so a stranger's
account id is never written down before they say yes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from storage.models import IdentityRow, LinkAttemptRow, LinkCodeRow
from storage.records import LinkedIdentity
from storage.verbs import Verbs, as_utc, aware

LINK_CODE_VALID = timedelta(minutes=10)
ATTEMPT_WINDOW = timedelta(hours=1)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _chat_hash(channel: str, external_id: str) -> str:
    return _hash(f"{channel}:{external_id}")


class LinkingVerbs(Verbs):
    async def save_link_code(self, person_id: int, code: str, *, now: datetime) -> bool:
        """Keep a new code for `person_id` (earlier codes of theirs stop working). False when
        the same code is live for someone else: the caller draws another one."""
        moment = as_utc(now)
        digest = _hash(code)
        taken = await self._session.scalar(
            select(LinkCodeRow.id).where(
                LinkCodeRow.code_hash == digest,
                LinkCodeRow.used.is_(False),
                LinkCodeRow.expires_at > moment,
                LinkCodeRow.person_id != person_id,
            )
        )
        if taken is not None:
            return False
        await self._session.execute(
            delete(LinkCodeRow).where(
                (LinkCodeRow.person_id == person_id) | (LinkCodeRow.expires_at <= moment)
            )
        )
        self._session.add(
            LinkCodeRow(
                person_id=person_id,
                code_hash=digest,
                expires_at=moment + LINK_CODE_VALID,
                used=False,
            )
        )
        await self._session.flush()
        return True

    async def find_link_code(self, code: str, *, now: datetime) -> int | None:
        """The person a live (unused, unexpired) code belongs to."""
        return await self._session.scalar(
            select(LinkCodeRow.person_id).where(
                LinkCodeRow.code_hash == _hash(code),
                LinkCodeRow.used.is_(False),
                LinkCodeRow.expires_at > as_utc(now),
            )
        )

    async def count_link_attempts(self, channel: str, external_id: str, *, now: datetime) -> int:
        """Wrong codes typed in this chat in the last hour."""
        found = await self._session.scalar(
            select(func.count(LinkAttemptRow.id)).where(
                LinkAttemptRow.chat_hash == _chat_hash(channel, external_id),
                LinkAttemptRow.at > as_utc(now) - ATTEMPT_WINDOW,
            )
        )
        return int(found or 0)

    async def add_link_attempt(self, channel: str, external_id: str, *, now: datetime) -> None:
        moment = as_utc(now)
        await self._session.execute(
            delete(LinkAttemptRow).where(LinkAttemptRow.at <= moment - ATTEMPT_WINDOW)
        )
        self._session.add(LinkAttemptRow(chat_hash=_chat_hash(channel, external_id), at=moment))
        await self._session.flush()

    async def link_identity(
        self, code: str, channel: str, external_id: str, username: str | None, *, now: datetime
    ) -> int | None:
        """Use the code: this chat becomes an identity of the code's person, whose id is
        returned. None when the code is no longer live or the chat belongs to someone."""
        moment = as_utc(now)
        person_id = await self.find_link_code(code, now=moment)
        known = await self._session.scalar(
            select(IdentityRow.id).where(
                IdentityRow.channel == channel, IdentityRow.external_id == external_id
            )
        )
        if person_id is None or known is not None:
            return None
        used = await self._session.execute(
            update(LinkCodeRow)
            .where(
                LinkCodeRow.code_hash == _hash(code),
                LinkCodeRow.person_id == person_id,
                LinkCodeRow.used.is_(False),
            )
            .values(used=True)
        )
        if getattr(used, "rowcount", 0) != 1:  # someone else used it just now
            return None
        self._session.add(
            IdentityRow(
                person_id=person_id,
                channel=channel,
                external_id=external_id,
                username=username,
                last_seen_at=moment,
            )
        )
        await self._session.flush()
        return person_id

    async def list_linked_identities(self, person_id: int) -> list[LinkedIdentity]:
        rows = await self._session.scalars(
            select(IdentityRow).where(IdentityRow.person_id == person_id).order_by(IdentityRow.id)
        )
        return [
            LinkedIdentity(r.id, r.channel, r.external_id, r.reachable, aware(r.last_seen_at))
            for r in rows
        ]

    async def unlink_identity(self, person_id: int, identity_id: int) -> bool:
        """Remove one of the person's accounts, never the last one (that is "forget me")."""
        count = await self._session.scalar(
            select(func.count(IdentityRow.id)).where(IdentityRow.person_id == person_id)
        )
        if int(count or 0) < 2:
            return False
        result = await self._session.execute(
            delete(IdentityRow).where(
                IdentityRow.id == identity_id, IdentityRow.person_id == person_id
            )
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def mark_account_seen(self, channel: str, external_id: str, *, now: datetime) -> None:
        """The person wrote from this account: messages for them go here from now on."""
        await self._session.execute(
            update(IdentityRow)
            .where(IdentityRow.channel == channel, IdentityRow.external_id == external_id)
            .values(last_seen_at=as_utc(now))
        )

    async def forget_link_codes(self, *, now: datetime) -> None:
        """Codes that expired or were used, and wrong-code counts older than an hour."""
        moment = as_utc(now)
        await self._session.execute(
            delete(LinkCodeRow).where(
                (LinkCodeRow.expires_at <= moment) | LinkCodeRow.used.is_(True)
            )
        )
        await self._session.execute(
            delete(LinkAttemptRow).where(LinkAttemptRow.at <= moment - ATTEMPT_WINDOW)
        )
