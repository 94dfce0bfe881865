"""Writes: casting ballots, opening and closing questions, recounting.

``ballot_cast`` is the one way a ballot is recorded, whether it comes from a form POST or a websocket
message. Its ``data`` shapes are documented in ``voting/ballots.py``; the errors it raises in
``voting/errors.py``.

``ballots_cast`` records a batch of them on one question in one transaction (the socket path, see
``voting/batching.py``); ``ballot_cast`` is a batch of one.

Concurrency: every write of ballots first writes its question's row with an ``UPDATE`` (an open
ballot increments ``tally_seq``; a secret one leaves it). That takes the question row's lock
(PostgreSQL) or the database's write lock (SQLite) before anything is read, so writers on one
question are serialised: the check for existing ballots, the inserts or updates, and the incremental
counts are one indivisible step. The unique constraints on (question, voter) remain the last line of
defence.

Secret ballots are written in two steps that never share a transaction: the voter's transaction
stores the ``Participation`` and the ballot sealed (``voting.sealing``); ``secret_ballots_mix`` opens
sealed ballots, at least ``SECRET_BALLOT_MIX_SIZE`` at a time, and writes them as shuffled ``Ballot``
rows with the counts. See ``voting/README.md`` ("Secret ballots").
"""

from __future__ import annotations

import copy
import logging
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from voting import ballots as ballot_rules
from voting import errors, sealing
from voting.errors import BallotError
from voting.models import (
    Ballot,
    Participation,
    Question,
    QuestionStatus,
    ResultsVisibility,
    SealedBallot,
    TallyCount,
    mix_size,
)
from voting.signals import tally_changed

logger = logging.getLogger("townhall.voting")

_random = random.SystemRandom()
_shuffle = _random.shuffle


def concrete(question: Question) -> Question:
    """The question as its own kind (a polymorphic base row becomes its subclass)."""
    if type(question) is Question:
        return question.get_real_instance()
    return question


_STATE = (
    "opens_at",
    "closes_at",
    "closed_at",
    "tally_seq",
    "secret",
    "final_once_cast",
    "results_visibility",
    "ballots_sealed",
)


def _lock(question_id: int, *, bump: bool = True) -> dict[str, Any]:
    """Serialise writers on one question; return its fresh state.

    With ``bump`` the write that takes the lock is the next ``tally_seq``; without, it changes
    nothing (a secret ballot's transaction must not move the tally's version).
    """
    rows = Question.objects.non_polymorphic().filter(pk=question_id)
    if bump:
        updated = rows.update(tally_seq=F("tally_seq") + 1)
    else:
        updated = rows.update(ballots_sealed=F("ballots_sealed"))
    if not updated:
        raise BallotError(errors.QUESTION_CLOSED, "This question no longer exists.")
    return rows.values(*_STATE).get()


def _apply_counts(question_id: int, delta: Mapping[str, int]) -> None:
    """Add ``delta`` to the question's counts (the caller holds the question's lock)."""
    delta = {key: n for key, n in delta.items() if n}
    if not delta:
        return
    existing = set(
        TallyCount.objects.filter(question_id=question_id, key__in=list(delta)).values_list("key", flat=True)
    )
    by_amount: dict[int, list[str]] = {}
    for key, n in delta.items():
        if key in existing:
            by_amount.setdefault(n, []).append(key)
    for n, keys in by_amount.items():
        TallyCount.objects.filter(question_id=question_id, key__in=keys).update(count=F("count") + n)
    missing = [
        TallyCount(question_id=question_id, key=key, count=n)
        for key, n in delta.items()
        if key not in existing
    ]
    if missing:
        TallyCount.objects.bulk_create(missing)


def _notify(question_id: int, seq: int) -> None:
    transaction.on_commit(lambda: tally_changed.send(sender=Question, question_id=question_id, seq=seq))


def ballot_cast(*, question: Question, voter: Any, data: Mapping[str, Any]) -> Ballot:
    """Record ``voter``'s ballot on ``question``, or change it; keep the counts in step.

    Checks, in order: the question is open (``question_closed``), the person may vote
    (``not_eligible``), the ballot is valid for the kind (see ``voting/ballots.py``), and a ballot
    already cast may be changed (``final_once_cast``). On any error nothing is stored and the
    ``BallotError`` is raised. One ballot through ``ballots_cast``: the form and the socket share
    every check and every write.
    """
    (result,) = ballots_cast(question=question, votes=[(voter, data)])
    if result.error is not None or result.ballot is None:
        raise result.error or BallotError(errors.INVALID_BALLOT, "Your vote was not recorded.")
    return result.ballot


@dataclass(frozen=True)
class CastResult:
    """What became of one ballot of ``ballots_cast``: stored (``ballot`` and its ``seq``) or refused."""

    #: For a secret ballot, an unsaved ``Ballot`` holding the normalised data: it is stored sealed,
    #: and becomes a row only in a mix, among others.
    ballot: Ballot | None = None
    #: The question's ``tally_seq`` once this ballot was written: every tally whose version is at
    #: least this includes it. Only where the tally is public while voting is open and ballots are
    #: open: for a secret ballot no version includes it yet, and for results hidden until close the
    #: number would tell how often the hidden tally moves.
    seq: int | None = None
    error: BallotError | None = None
    #: When the transaction that stored it returned (committed, unless the caller holds a transaction).
    recorded_at: datetime | None = None


class _NothingWritten(Exception):
    """Every ballot of a batch was refused under the lock: roll back the lock's ``tally_seq`` bump."""

    def __init__(self, results: dict[int, CastResult]):
        self.results = results


def ballots_cast(*, question: Question, votes: Sequence[tuple[Any, Mapping[str, Any]]]) -> list[CastResult]:
    """Record several people's ballots on one question in one transaction; one result per vote, in order.

    Each vote gets exactly the checks ``ballot_cast`` documents; a refused vote stores nothing and does
    not stop the others. A person who appears twice is treated as voting twice in that order (the
    second changes the first, or is refused where ballots are final). ``voter`` objects must be fresh
    from the database: their rights are checked on them (``accounts.selectors.voters_by_id``).

    The eligibility and validity checks only read, so they run before the transaction; the
    transaction then starts with a write (``_lock``). On SQLite that matters: a transaction that
    reads first and writes later cannot wait for another writer and fails with "database is
    locked", while one that writes first simply waits its turn. However many ballots it holds, a
    batch costs a handful of queries, which is what lets the live socket path keep up with a room
    voting at once (``voting/batching.py``).
    """
    question = concrete(question)
    results: dict[int, CastResult] = {}
    accepted: list[tuple[int, Any, dict[str, Any]]] = []
    is_open = question.is_open
    for index, (voter, data) in enumerate(votes):
        try:
            if not is_open:
                raise BallotError(errors.QUESTION_CLOSED, "Voting on this question is closed.")
            if (
                voter is None
                or not getattr(voter, "is_authenticated", False)
                or not voter.has_perm("voting.vote_question", question)
            ):
                raise BallotError(errors.NOT_ELIGIBLE, "You are not eligible to vote on this question.")
            accepted.append((index, voter, ballot_rules.normalise(question, data)))
        except BallotError as exc:
            results[index] = CastResult(error=exc)
    if accepted:
        try:
            with transaction.atomic():
                recorded = _record(question, accepted)
        except _NothingWritten as nothing:
            results.update(nothing.results)
        else:
            now = timezone.now()
            results.update(
                (index, replace(result, recorded_at=now) if result.ballot is not None else result)
                for index, result in recorded.items()
            )
    return [results[index] for index in range(len(votes))]


def _record(question: Question, accepted: list[tuple[int, Any, dict[str, Any]]]) -> dict[int, CastResult]:
    """The write half of ``ballots_cast``, inside its transaction.

    ``tally_seq`` moves by one per open ballot written, as it did when every ballot had its own
    transaction: the lock takes the first number, and the batch's last write the rest. Secret ballots
    leave it: they move no count until they are mixed.
    """
    bumped = not question.secret
    state = _lock(question.pk, bump=bumped)
    # The question as it is now, under the lock (a copy: the caller's object may be shared).
    question = copy.copy(question)
    for name in _STATE:
        setattr(question, name, state[name])
    if question.status != QuestionStatus.OPEN:
        closed = BallotError(errors.QUESTION_CLOSED, "Voting on this question is closed.")
        raise _NothingWritten({index: CastResult(error=closed) for index, _, _ in accepted})
    if not question.secret and not bumped:
        # The caller's copy said secret; the question is not (any more): take the next number now.
        Question.objects.non_polymorphic().filter(pk=question.pk).update(tally_seq=F("tally_seq") + 1)
        question.tally_seq = state["tally_seq"] = int(state["tally_seq"]) + 1

    voter_ids = {voter.pk for _, voter, _ in accepted}
    writer = _SecretWriter(question, voter_ids) if question.secret else _OpenWriter(question, voter_ids)
    results: dict[int, CastResult] = {}
    written: list[tuple[int, Ballot]] = []
    for index, voter, normalised in accepted:
        try:
            written.append((index, writer.add(voter, normalised)))
        except BallotError as exc:
            results[index] = CastResult(error=exc)
    if not written:
        raise _NothingWritten(results)
    writer.save()
    if isinstance(writer, _SecretWriter):
        for index, ballot in written:
            results[index] = CastResult(ballot=ballot)
        if int(state["ballots_sealed"]) + len(written) >= 2 * mix_size():
            # In a transaction of its own, once this one has committed: never the voter's.
            transaction.on_commit(lambda: _mix_after_commit(question), robust=True)
        return results
    first = int(state["tally_seq"])
    tell_seq = question.results_visibility == ResultsVisibility.LIVE
    for offset, (index, ballot) in enumerate(written):
        results[index] = CastResult(ballot=ballot, seq=first + offset if tell_seq else None)
    last = first + len(written) - 1
    if last != first:
        Question.objects.non_polymorphic().filter(pk=question.pk).update(tally_seq=last)
    _notify(question.pk, last)
    return results


class _OpenWriter:
    """Ballots that name their voter: one row per person, changeable unless final once cast."""

    def __init__(self, question: Question, voter_ids: set[int]):
        self.question = question
        self.now = timezone.now()
        self.ballots = {
            ballot.voter_id: ballot
            for ballot in Ballot.objects.filter(question_id=question.pk, voter_id__in=voter_ids)
        }
        self.new: dict[int, Ballot] = {}
        self.changed: dict[int, Ballot] = {}
        self.delta: Counter[str] = Counter()

    def add(self, voter: Any, normalised: dict[str, Any]) -> Ballot:
        kind = self.question.kind
        ballot = self.ballots.get(voter.pk)
        if ballot is not None:
            if self.question.final_once_cast:
                raise BallotError(
                    errors.FINAL_ONCE_CAST, "You have already voted. Votes on this question are final."
                )
            self.delta.subtract(ballot_rules.count_keys(kind, ballot.data))
            ballot.data = normalised
            ballot.changed_at = self.now
            if voter.pk not in self.new:
                self.changed[voter.pk] = ballot
        else:
            ballot = Ballot(
                question_id=self.question.pk,
                voter=voter,
                data=normalised,
                cast_at=self.now,
                changed_at=self.now,
            )
            self.ballots[voter.pk] = self.new[voter.pk] = ballot
            self.delta[ballot_rules.BALLOTS_KEY] += 1
        self.delta.update(ballot_rules.count_keys(kind, normalised))
        return ballot

    def save(self) -> None:
        # One statement for new and changed ballots alike: an insert that, where the person already
        # has a ballot on this question, changes that ballot instead (it keeps its id and cast_at).
        changed = [
            Ballot(question_id=self.question.pk, voter_id=voter_id, data=b.data, changed_at=b.changed_at)
            for voter_id, b in self.changed.items()
        ]
        Ballot.objects.bulk_create(
            [*self.new.values(), *changed],
            update_conflicts=True,
            unique_fields=["question", "voter"],
            update_fields=["data", "changed_at"],
        )
        if self.new:
            Participation.objects.bulk_create(
                Participation(question_id=self.question.pk, voter_id=voter_id) for voter_id in self.new
            )
        _apply_counts(self.question.pk, self.delta)


class _SecretWriter:
    """Secret ballots: who voted (``Participation``) and how, sealed (``SealedBallot``), never linked.

    Final once cast. The sealed ballots move no count: ``secret_ballots_mix`` opens them later, in
    another transaction, among at least ``SECRET_BALLOT_MIX_SIZE`` others.
    """

    def __init__(self, question: Question, voter_ids: set[int]):
        self.question = question
        self.option_count = len(question.option_list)
        self.voted = set(
            Participation.objects.filter(question_id=question.pk, voter_id__in=voter_ids).values_list(
                "voter_id", flat=True
            )
        )
        self.participations: list[Participation] = []
        self.sealed: list[SealedBallot] = []

    def add(self, voter: Any, normalised: dict[str, Any]) -> Ballot:
        if voter.pk in self.voted:
            raise BallotError(
                errors.FINAL_ONCE_CAST, "You have already voted. A secret ballot cannot be changed."
            )
        self.voted.add(voter.pk)
        self.participations.append(Participation(question_id=self.question.pk, voter_id=voter.pk))
        self.sealed.append(
            SealedBallot(
                question_id=self.question.pk,
                sealed=sealing.seal(self.question.pk, self.option_count, normalised),
            )
        )
        ballot = Ballot(question_id=self.question.pk, voter=None, data=normalised)
        ballot.pk = None  # not stored as it is: see ``CastResult.ballot``
        return ballot

    def save(self) -> None:
        Participation.objects.bulk_create(self.participations)
        _shuffle(self.sealed)
        SealedBallot.objects.bulk_create(self.sealed)
        Question.objects.non_polymorphic().filter(pk=self.question.pk).update(
            ballots_sealed=F("ballots_sealed") + len(self.sealed)
        )


def _mix_after_commit(question: Question) -> None:
    try:
        secret_ballots_mix(question=question)
    except Exception:
        # Nothing is lost: the sealed ballots wait for the next mix (the next vote, or the close).
        logger.exception("Could not mix the sealed ballots of question %s", question.pk)


def _mix(question_id: int, kind: str, *, everything: bool) -> tuple[int, int]:
    """Open sealed ballots and write them as ``Ballot`` rows with their counts (the caller holds the
    question's lock and updates its row). Returns (ballots mixed, sealed ballots left).

    Unless ``everything``, nothing is opened while fewer than twice ``mix_size()`` wait, and then all
    but ``mix_size()`` of them, chosen at random, are: every mix holds at least ``mix_size()``
    ballots, and so does the last one, at close.
    """
    rows = list(SealedBallot.objects.filter(question_id=question_id).values_list("id", "sealed"))
    waiting, keep = len(rows), mix_size()
    if not everything:
        if waiting < 2 * keep:
            return 0, waiting
        rows = _random.sample(rows, waiting - keep)
    if not rows:
        return 0, waiting
    opened = [sealing.unseal(question_id, sealed) for _, sealed in rows]
    _shuffle(opened)
    Ballot.objects.bulk_create(Ballot(question_id=question_id, voter=None, data=data) for data in opened)
    delta: Counter[str] = Counter()
    for data in opened:
        delta.update(ballot_rules.count_keys(kind, data))
    delta[ballot_rules.BALLOTS_KEY] += len(opened)
    _apply_counts(question_id, delta)
    ids = [pk for pk, _ in rows]
    for start in range(0, len(ids), 500):
        SealedBallot.objects.filter(pk__in=ids[start : start + 500]).delete()
    return len(opened), waiting - len(opened)


@transaction.atomic
def secret_ballots_mix(*, question: Question, everything: bool = False) -> int:
    """Open waiting secret ballots and count them, in a transaction that writes no participation.

    Runs after a secret ballot's transaction has committed once twice ``SECRET_BALLOT_MIX_SIZE``
    sealed ballots wait (see ``_mix``), at close (``question_close``), and when the results of a
    question that closed at its closing time are first read (``selectors.tally_for``): once a
    question is no longer open, or with ``everything``, every waiting ballot is opened. The public
    tally moves once per mix, and ``tally_seq`` by one. Returns how many ballots were mixed.
    """
    question = concrete(question)
    state = _lock(question.pk, bump=False)
    fresh = copy.copy(question)
    for name in _STATE:
        setattr(fresh, name, state[name])
    everything = everything or fresh.status != QuestionStatus.OPEN
    mixed, left = _mix(question.pk, question.kind, everything=everything)
    if mixed or left != state["ballots_sealed"]:
        Question.objects.non_polymorphic().filter(pk=question.pk).update(
            tally_seq=F("tally_seq") + (1 if mixed else 0), ballots_sealed=left
        )
    if mixed:
        _notify(question.pk, int(state["tally_seq"]) + 1)
    return mixed


@transaction.atomic
def question_open(*, question: Question, when=None) -> Question:
    """Open a question now (or at ``when``), e.g. when a meeting reaches it."""
    question.opens_at = when or timezone.now()
    question.closed_at = None
    if question.closes_at is not None and question.closes_at <= question.opens_at:
        question.closes_at = None
    question.full_clean()
    question.save(update_fields=["opens_at", "closed_at", "closes_at"])
    return question


@transaction.atomic
def question_close(*, question: Question) -> Question:
    """Close a question now. Ballots being cast at this moment either commit first or are refused."""
    state = _lock(question.pk)
    question.tally_seq = state["tally_seq"]
    question.closed_at = timezone.now()
    question.save(update_fields=["closed_at"])
    if state["secret"] or state["ballots_sealed"]:
        # Every secret ballot still sealed is counted now, in this transaction (no voter's).
        _mixed, left = _mix(question.pk, concrete(question).kind, everything=True)
        Question.objects.non_polymorphic().filter(pk=question.pk).update(ballots_sealed=left)
        question.ballots_sealed = left
    _notify(question.pk, question.tally_seq)
    return question


@dataclass
class RecountReport:
    question_id: int
    ballots: int
    participations: int
    #: Secret ballots cast but not yet mixed: counted by the next mix, at the latest at close.
    sealed: int = 0
    #: key -> (stored count, recounted count), only where they differ.
    mismatches: dict[str, tuple[int, int]] = field(default_factory=dict)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.participations == self.ballots + self.sealed


def recount_from_ballots(question: Question, ballot_data: list[dict[str, Any]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for data in ballot_data:
        counts.update(ballot_rules.count_keys(question.kind, data))
    counts[ballot_rules.BALLOTS_KEY] = len(ballot_data)
    return counts


@transaction.atomic
def tally_recount(*, question: Question, repair: bool = False) -> RecountReport:
    """Recompute the incremental counts from the ballots and compare. With ``repair`` the stored
    counts are replaced by the recount (under the question's lock, so no ballot slips in between)."""
    question = concrete(question)
    _lock(question.pk)
    ballot_data = list(Ballot.objects.filter(question_id=question.pk).values_list("data", flat=True))
    expected = recount_from_ballots(question, ballot_data)
    stored = dict(TallyCount.objects.filter(question_id=question.pk).values_list("key", "count"))
    report = RecountReport(
        question_id=question.pk,
        ballots=len(ballot_data),
        participations=Participation.objects.filter(question_id=question.pk).count(),
        sealed=SealedBallot.objects.filter(question_id=question.pk).count(),
    )
    for key in sorted(set(expected) | set(stored)):
        if int(stored.get(key, 0)) != int(expected.get(key, 0)):
            report.mismatches[key] = (int(stored.get(key, 0)), int(expected.get(key, 0)))
    if repair and report.mismatches:
        TallyCount.objects.filter(question_id=question.pk).delete()
        TallyCount.objects.bulk_create(
            [TallyCount(question_id=question.pk, key=key, count=n) for key, n in expected.items() if n]
        )
        report.repaired = True
    return report
