"""The subscriber-list registry: every transition of a list (allowed and refused), the 150-list
limit with its 90 % warning, the update marker and continuous filling, and stateful properties
(never more than 150 lists; replaying the history gives the same registry)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as statistic
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from emma_osplus import CustomerNumber, InvalidValueError, Record
from emma_osplus._lists import (
    LIST_LIMIT,
    LIST_WARNING,
    SUBSCRIBER_LIST,
    CreateList,
    DeleteList,
    FillList,
    FreezeList,
    ListEvent,
    ListRegistry,
    MarkerPosition,
    Member,
    ReplaceList,
    SubscriberList,
    UpdateMarker,
)
from emma_osplus._machine import TransitionRefused
from emma_osplus.testing._orders import list_events, list_members

AT = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
NAME = "Runde_Geburtstage"


def member(n: int, email: str = "a@example.de") -> Member:
    return Member(n, {"KUNDENNUMMER": f"{n:010d}", "EMAIL": email})


def customers(*numbers: int) -> tuple[CustomerNumber, ...]:
    return tuple(CustomerNumber(n) for n in numbers)


def filled(*numbers: int, name: str = NAME, continuous: bool = False) -> ListRegistry:
    registry = ListRegistry().create(name, at=AT, continuous=continuous).registry
    return registry.fill(name, at=AT, members=[member(n) for n in numbers]).registry


def full(count: int) -> ListRegistry:
    return ListRegistry().apply_all(CreateList(name=f"Liste_{i:03d}", at=AT) for i in range(count))


# -- every transition ---------------------------------------------------------------------------

LIST_EVENT: dict[str, Callable[[], ListEvent]] = {
    "create": lambda: CreateList(name=NAME, at=AT),
    "fill": lambda: FillList(name=NAME, at=AT, members=[member(1)]),
    "replace": lambda: ReplaceList(name=NAME, at=AT, members=[member(2)]),
    "freeze": lambda: FreezeList(name=NAME, at=AT),
    "delete": lambda: DeleteList(name=NAME, at=AT),
}
LIST_PATH: dict[str, list[str]] = {
    "absent": [],
    "open": ["create"],
    "frozen": ["create", "freeze"],
}
LIST_ALLOWED = {
    ("absent", "create"): "open",
    ("open", "fill"): "open",
    ("open", "replace"): "open",
    ("open", "freeze"): "frozen",
    ("open", "delete"): "absent",
    ("frozen", "delete"): "absent",
}
LIST_REFUSAL_REASON = {
    ("open", "create"): "exists already",
    ("frozen", "create"): "exists already",
    ("absent", "fill"): "no subscriber list",
    ("absent", "replace"): "no subscriber list",
    ("absent", "freeze"): "no subscriber list",
    ("absent", "delete"): "no subscriber list",
    ("frozen", "fill"): "frozen",
    ("frozen", "replace"): "frozen",
    ("frozen", "freeze"): "not allowed",
}


def in_state(state: str) -> ListRegistry:
    registry = ListRegistry()
    for kind in LIST_PATH[state]:
        registry = registry.apply(LIST_EVENT[kind]())
    assert registry.state_of(NAME) == state
    return registry


def test_list_table_is_the_specified_one() -> None:
    assert dict(SUBSCRIBER_LIST.transitions) == LIST_ALLOWED
    assert set(SUBSCRIBER_LIST.states) == set(LIST_PATH)
    assert set(SUBSCRIBER_LIST.events) == set(LIST_EVENT)


@pytest.mark.parametrize("state", list(LIST_PATH))
@pytest.mark.parametrize("kind", list(LIST_EVENT))
def test_list_every_transition(state: str, kind: str) -> None:
    registry = in_state(state)
    event = LIST_EVENT[kind]()
    assert event.kind == kind
    if (state, kind) in LIST_ALLOWED:
        change = registry.step(event)
        assert change.registry.state_of(NAME) == LIST_ALLOWED[state, kind]
        assert change.events == (event,)
        assert (NAME in change.registry) is (LIST_ALLOWED[state, kind] != "absent")
    else:
        with pytest.raises(TransitionRefused) as info:
            registry.step(event)
        assert LIST_REFUSAL_REASON[state, kind] in info.value.reason
        assert info.value.code == "E307"  # the library's own code (docs/decisions.md)
        assert registry == in_state(state)


# -- the limit ----------------------------------------------------------------------------------


def test_the_151st_list_is_refused_e302_and_nothing_changes() -> None:
    registry = full(LIST_LIMIT)
    with pytest.raises(TransitionRefused) as info:
        registry.create(NAME, at=AT)
    assert info.value.code == "E302"
    assert info.value.message is not None
    assert info.value.message.raw == NAME
    assert "150 lists" in (info.value.message.detail or "")
    assert len(registry) == 150
    # ... and a delivery that needs it is refused whole
    with pytest.raises(TransitionRefused):
        registry.deliver(NAME, at=AT, members=[member(1)])
    # filling an existing list still works at the limit
    assert registry.fill("Liste_000", at=AT, members=[member(1)]).registry["Liste_000"].members


@pytest.mark.parametrize(
    ("before", "warned"),
    [(0, False), (LIST_WARNING - 2, False), (LIST_WARNING - 1, True), (LIST_LIMIT - 1, True)],
)
def test_w302_from_135_lists_after_the_creation(before: int, warned: bool) -> None:
    change = full(before).create(NAME, at=AT)
    assert len(change.registry) == before + 1
    assert [m.code for m in change.messages] == (["W302"] if warned else [])
    if warned:
        assert f"{before + 1} of 150" in (change.messages[0].detail or "")


def test_list_names_follow_the_order_name_rule() -> None:
    with pytest.raises(TransitionRefused) as info:
        ListRegistry().create("Runde Geburtstage", at=AT)
    assert info.value.code == "E303"
    assert info.value.message is not None
    assert "Runde_Geburtstage" in (info.value.message.detail or "")


# -- deliveries ---------------------------------------------------------------------------------


def test_marker_delivery_replaces_the_members_and_reports_the_difference() -> None:
    name = "Newsletter_UPDATE"
    first = ListRegistry().deliver(name, at=AT, members=[member(1), member(2), member(3)])
    assert first.created
    assert first.added == customers(1, 2, 3)
    second = first.registry.deliver(
        name, at=AT + timedelta(days=30), members=[member(3, "neu@example.de"), member(4)]
    )
    assert not second.created
    assert (second.added, second.removed, second.updated) == (
        customers(4),
        customers(1, 2),
        customers(3),
    )
    lst = second.registry[name]
    assert sorted(lst.members) == list(customers(3, 4))
    assert lst.members[CustomerNumber(3)].values["EMAIL"] == "neu@example.de"
    assert lst.updated_at == AT + timedelta(days=30)
    assert len(second.registry) == 1  # updated, not a new list each month


def test_continuous_list_is_filled_and_a_re_delivered_customer_is_updated() -> None:
    registry = filled(1, 2, continuous=True)
    change = registry.deliver(
        NAME, at=AT, members=[member(2, "b@example.de"), member(5)], continuous=True
    )
    assert (change.added, change.updated, change.removed) == (customers(5), customers(2), ())
    lst = change.registry[NAME]
    assert len(lst) == 3
    assert lst.members[CustomerNumber(2)].values["EMAIL"] == "b@example.de"


def test_one_delivery_with_a_customer_twice_adds_once() -> None:
    change = filled(continuous=True).fill(NAME, at=AT, members=[member(7), member(7, "x@y.de")])
    assert (change.added, change.updated) == (customers(7), ())
    assert len(change.registry[NAME]) == 1


def test_delivery_without_a_list_creates_it() -> None:
    change = ListRegistry().deliver(NAME, at=AT, members=[member(1)], continuous=True)
    assert change.created
    assert [type(e) for e in change.events] == [CreateList, FillList]
    assert change.registry[NAME].continuous
    assert ListRegistry.replay(change.events) == change.registry


def test_delivery_creating_the_135th_list_warns() -> None:
    change = full(LIST_WARNING - 1).deliver(NAME, at=AT, members=[member(1)])
    assert [m.code for m in change.messages] == ["W302"]


@pytest.mark.parametrize(
    ("list_continuous", "delivery_continuous"), [(False, False), (False, True), (True, False)]
)
def test_a_taken_name_without_marker_is_refused(
    list_continuous: bool, delivery_continuous: bool
) -> None:
    """A KMM delivery never lands in another order's list, nor a ReKu one in a KMM list."""
    registry = filled(1, continuous=list_continuous)
    with pytest.raises(TransitionRefused) as info:
        registry.deliver(NAME, at=AT, members=[member(2)], continuous=delivery_continuous)
    assert "exists already" in info.value.reason
    assert "_UPDATE" in info.value.reason


def test_frozen_list_refuses_new_members() -> None:
    registry = filled(1, continuous=True).freeze(NAME, at=AT).registry
    assert registry[NAME].frozen
    attempts: list[Callable[[], object]] = [
        lambda: registry.deliver(NAME, at=AT, members=[member(2)]),
        lambda: registry.fill(NAME, at=AT, members=[member(2)]),
        lambda: registry.replace(NAME, at=AT, members=[member(2)]),
    ]
    for attempt in attempts:
        with pytest.raises(TransitionRefused, match="frozen"):
            attempt()
    assert list(registry[NAME].members) == list(customers(1))


def test_deleting_frees_a_place() -> None:
    registry = full(LIST_LIMIT).delete("Liste_007", at=AT).registry
    assert len(registry) == 149
    assert "Liste_007" not in registry
    assert len(registry.create(NAME, at=AT).registry) == 150


@pytest.mark.parametrize(
    ("marker", "name", "matches"),
    [
        (UpdateMarker(), "Newsletter_UPDATE", True),
        (UpdateMarker(), "_UPDATE", False),
        (UpdateMarker(), "UPDATE_Newsletter", False),
        (UpdateMarker(), "Newsletter_Update", False),
        (UpdateMarker("UPD.", "prefix"), "UPD.Newsletter", True),
        (UpdateMarker("UPD.", MarkerPosition.PREFIX), "Newsletter_UPD.", False),
        (UpdateMarker("-akt-", "anywhere"), "Newsletter-akt-2026", True),
        (UpdateMarker("-akt-", "anywhere"), "Newsletter-2026", False),
    ],
)
def test_update_marker(marker: UpdateMarker, name: str, matches: bool) -> None:
    assert marker.matches(name) is matches
    assert ListRegistry(marker=marker).is_update(name) is matches


def test_configured_marker_drives_deliveries() -> None:
    registry = ListRegistry(marker=UpdateMarker("AKT_", "prefix"))
    first = registry.deliver("AKT_Newsletter", at=AT, members=[member(1)])
    second = first.registry.deliver("AKT_Newsletter", at=AT, members=[member(2)])
    assert second.removed == customers(1)
    with pytest.raises(TransitionRefused):
        first.registry.deliver("Newsletter_UPDATE", at=AT, members=[]).registry.deliver(
            "Newsletter_UPDATE", at=AT, members=[]
        )


@pytest.mark.parametrize("text", ["", "mit Leerzeichen", "Ü"])
def test_marker_must_fit_an_order_name(text: str) -> None:
    with pytest.raises(ValueError, match="update marker"):
        UpdateMarker(text)


# -- members and events -------------------------------------------------------------------------


def test_member_from_a_record() -> None:
    record = Record(line=2, values={"KUNDENNUMMER": "4711", "EMAIL": "anna@example.de"}, raw="…")
    m = Member.from_record(record)
    assert m.customer == CustomerNumber("4711")
    assert m.values["EMAIL"] == "anna@example.de"
    typed = Record(line=2, values={}, raw="", typed={"KUNDENNUMMER": CustomerNumber(42)})
    assert Member.from_record(typed).customer == CustomerNumber(42)
    with pytest.raises(InvalidValueError) as info:
        Member.from_record(Record(line=3, values={"EMAIL": "x@y.de"}, raw="x@y.de"))
    assert info.value.code == "E208"
    assert info.value.message.line == 3
    # records go straight into list events
    event = FillList(name=NAME, at=AT, members=[record])
    assert event.members == (m,)


def test_member_repr_masks_addresses() -> None:
    assert "anna@" not in repr(Member(1, {"EMAIL": "anna@example.de"}))
    assert "anna@" not in repr(FillList(name=NAME, at=AT, members=[member(1, "anna@example.de")]))


def test_members_in_a_list() -> None:
    lst = filled(4711)[NAME]
    assert isinstance(lst, SubscriberList)
    assert 4711 in lst
    assert "4711" in lst
    assert "no number" not in lst
    assert 42 not in lst


def test_list_events_need_aware_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CreateList(name=NAME, at=datetime(2026, 12, 1))
    with pytest.raises(TypeError, match="datetime"):
        CreateList(name=NAME, at="2026-12-01")  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(list_events(), max_size=25))
def test_replay_of_accepted_events_gives_the_same_registry(events: list[ListEvent]) -> None:
    registry, history = ListRegistry(), []
    for event in events:
        try:
            registry = registry.apply(event)
        except TransitionRefused:
            continue
        history.append(event)
    assert ListRegistry.replay(history) == registry


# -- stateful -----------------------------------------------------------------------------------

NAMES = st.sampled_from(["A", "B", "C", "Newsletter_UPDATE"]) | st.integers(0, 200).map(
    lambda i: f"L{i}"
)


class ListRegistryMachine(RuleBasedStateMachine):
    """Never more than 150 lists; E302 exactly at the limit; W302 exactly from 135 on;
    refusals change nothing; members are never duplicated; replay gives the same registry."""

    def __init__(self) -> None:
        super().__init__()
        self.registry = ListRegistry()
        self.history: list[ListEvent] = []
        self.minute = 0

    def _at(self) -> datetime:
        self.minute += 1
        return AT + timedelta(minutes=self.minute)

    def _record(self, change_events: tuple[ListEvent, ...], registry: ListRegistry) -> None:
        self.history.extend(change_events)
        self.registry = registry

    @rule(count=st.integers(1, 70), first=st.integers(0, 10_000))
    def create_many(self, count: int, first: int) -> None:
        for i in range(first, first + count):
            self.create(f"Batch_{i}", continuous=i % 2 == 0)

    @rule(name=NAMES, continuous=st.booleans())
    def create(self, name: str, continuous: bool) -> None:
        before = self.registry
        count = len(before)
        try:
            change = before.create(name, at=self._at(), continuous=continuous)
        except TransitionRefused as refusal:
            assert self.registry is before
            statistic(f"create refused {refusal.code}")
            if name not in before:
                assert refusal.code == "E302"
                assert count == LIST_LIMIT
            return
        assert count < LIST_LIMIT
        statistic("create warned W302" if change.messages else "create")
        assert len(change.registry) == count + 1
        assert [m.code for m in change.messages] == (["W302"] if count + 1 >= LIST_WARNING else [])
        self._record(change.events, change.registry)

    @rule(name=NAMES, members=st.lists(list_members(), max_size=6), continuous=st.booleans())
    def deliver(self, name: str, members: list[Member], continuous: bool) -> None:
        before = self.registry
        old = before.lists.get(name)
        try:
            change = before.deliver(name, at=self._at(), members=members, continuous=continuous)
        except TransitionRefused:
            assert self.registry is before
            return
        lst = change.registry[name]
        delivered = {m.customer for m in members}
        assert delivered <= set(lst.members)
        if old is not None and before.is_update(name):
            assert set(lst.members) == delivered
            assert set(change.removed) == set(old.members) - delivered
        elif old is not None:
            assert old.continuous
            assert continuous
            assert set(lst.members) == set(old.members) | delivered
            assert change.removed == ()
        assert set(change.added) == delivered - (set(old.members) if old else set())
        self._record(change.events, change.registry)

    @precondition(lambda self: len(self.registry) > 0)
    @rule(data=st.data())
    def freeze_or_delete(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.registry)))
        action = data.draw(st.sampled_from(["freeze", "delete"]))
        try:
            change = (
                self.registry.freeze(name, at=self._at())
                if action == "freeze"
                else self.registry.delete(name, at=self._at())
            )
        except TransitionRefused:
            assert self.registry[name].frozen
            assert action == "freeze"
            return
        self._record(change.events, change.registry)

    @invariant()
    def never_more_than_150_lists(self) -> None:
        assert len(self.registry) <= LIST_LIMIT

    @invariant()
    def replay_gives_the_same_registry(self) -> None:
        assert ListRegistry.replay(self.history) == self.registry


ListRegistryMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestListRegistry = ListRegistryMachine.TestCase


def test_messages_of_the_registry_are_catalogue_messages() -> None:
    change = full(LIST_WARNING).create(NAME, at=AT)
    assert [m.code for m in change.messages] == ["W302"]
    assert not change.messages[0].is_error
