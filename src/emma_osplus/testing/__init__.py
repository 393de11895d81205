"""Test helpers for users of emma_osplus: hypothesis strategies for every public type and
file kind, and reusable contract tests.  Needs ``hypothesis`` (``pip install
emma-osplus[test]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._email import (
    email_address_texts,
    email_addresses,
    invalid_email_address_cases,
    invalid_email_addresses,
)
from ._filenames import (
    file_names,
    safe_names,
    unsafe_names,
)
from ._types import (
    blzs,
    customer_numbers,
    event_ids,
    invalid_blzs,
    invalid_customer_numbers,
    invalid_order_names,
    mailing_ids,
    messages,
    occasion_codes,
    order_names,
    order_numbers,
)

if TYPE_CHECKING:
    from ._transports import TransportContract
from ._campaigns import (
    address_keys,
    campaign_blocks,
    campaign_events,
    campaigns,
    journey_plans,
    journey_runs,
    journey_steps,
    leave_reasons,
    send_blocks,
    start_blocks,
    wait_blocks,
)
from ._consent import (
    consent_events,
    consent_ledgers,
    consent_times,
)
from ._csv import (
    alphabet,
    cons_files,
    consent_changes,
    csv_layouts,
    csv_tables,
    encodable_text,
    subscriber_list_files,
    subscriber_lists,
    subscriber_rows,
)
from ._events import (
    email_addresses_for_events,
    event_histories,
    response_events,
)
from ._files import (
    InterfaceFile,
    interface_file_names,
    interface_files,
    registered_occasion_codes,
)
from ._fixed import (
    FixedContent,
    fixed_layouts,
    fixed_records,
    resp_files,
    response_records,
)
from ._orders import (
    aware_datetimes,
    control_file_events,
    data_deliveries,
    failed_control_file_events,
    kmm_events,
    list_events,
    list_members,
    list_names,
    order_events,
    parked_releases,
    reku_events,
    sha256s,
)
from ._registry import (
    known_occasion_codes,
    occasions,
    registries,
    unknown_occasion_codes,
)
from ._simulation import (
    assumptions,
    rate_overrides,
    rates,
    simulation_plans,
)
from ._simulation import subscriber_lists as simulation_subscriber_lists
from ._xml import (
    acknowledgements,
    control_files,
    manifests,
    sha256_digests,
    xml_texts,
    xml_timestamps,
)

__all__ = [
    "FixedContent",
    "InterfaceFile",
    "TransportContract",
    "acknowledgements",
    "address_keys",
    "alphabet",
    "assumptions",
    "aware_datetimes",
    "blzs",
    "campaign_blocks",
    "campaign_events",
    "campaigns",
    "cons_files",
    "consent_changes",
    "consent_events",
    "consent_ledgers",
    "consent_times",
    "control_file_events",
    "control_files",
    "csv_layouts",
    "csv_tables",
    "customer_numbers",
    "data_deliveries",
    "email_address_texts",
    "email_addresses",
    "email_addresses_for_events",
    "encodable_text",
    "event_histories",
    "event_ids",
    "failed_control_file_events",
    "file_names",
    "fixed_layouts",
    "fixed_records",
    "interface_file_names",
    "interface_files",
    "invalid_blzs",
    "invalid_customer_numbers",
    "invalid_email_address_cases",
    "invalid_email_addresses",
    "invalid_order_names",
    "journey_plans",
    "journey_runs",
    "journey_steps",
    "kmm_events",
    "known_occasion_codes",
    "leave_reasons",
    "list_events",
    "list_members",
    "list_names",
    "mailing_ids",
    "manifests",
    "messages",
    "occasion_codes",
    "occasions",
    "order_events",
    "order_names",
    "order_numbers",
    "parked_releases",
    "rate_overrides",
    "rates",
    "registered_occasion_codes",
    "registries",
    "reku_events",
    "resp_files",
    "response_events",
    "response_records",
    "safe_names",
    "send_blocks",
    "sha256_digests",
    "sha256s",
    "simulation_plans",
    "simulation_subscriber_lists",
    "start_blocks",
    "subscriber_list_files",
    "subscriber_lists",
    "subscriber_rows",
    "unknown_occasion_codes",
    "unsafe_names",
    "wait_blocks",
    "xml_texts",
    "xml_timestamps",
]


def __getattr__(name: str) -> object:
    # The contract suite needs pytest; import it only when asked for.
    if name == "TransportContract":
        from ._transports import TransportContract  # noqa: PLC0415

        return TransportContract
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
