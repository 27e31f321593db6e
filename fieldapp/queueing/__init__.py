"""Queues between exam stations: station types, desks, each visit's tasks, routing and calling.

A visit gets one task per station type its plan needs. The person is in one line at a time:
the task with in_line = 1. Measurements come first and the doctor's conclusion last; the other
exams are unordered, and routing sends the person to the one with the shortest expected wait.

Serving order in a line is by queue_key, the time the person joined the line (epoch seconds)
minus their class's head start:

    queue_key = joined_at - head_start[class] + absences * absent_penalty

Emergency has a head start of 10**9 s (about 32 years), so it is always first. Priority has
a head start of H minutes (120 by default), so a normal person who has waited more than H minutes
longer than a priority person is served first: waiting time ages every class at the same rate.

A called person who does not come is put back with a penalty (absent_penalty_min later). After
max_calls calls (3 by default) the person has left: the task and the visit's other waiting tasks
become no_show, and the person is in no line. bring_back() reopens them when the person returns,
with fresh calls, at the back of their next line but with their class's head start.

Every function that writes runs inside write(db) (BEGIN IMMEDIATE), so two desks calling at
the same moment never get the same person. Times are taken as `at` (an aware datetime) so that
a simulation can drive a clock; the default is now.
"""

from .policy import CLASSES, DEFAULT_POLICY, Policy, priority_class
from .routing import Destination, enqueue_in_transaction, enqueue_visit, next_destination, route
from .serving import (
    absent,
    bring_back,
    call_next,
    done,
    left_after_absence,
    recall,
    send_to,
    skip,
    start,
    triage,
    triage_in_transaction,
)
from .stations import (
                       STATION_DEFAULTS,
                       add_desk,
                       add_station_type,
                       create_default_stations,
                       expected_wait,
                       expected_wait_s,
                       set_desk_open,
                       station_code,
)
from .store import QueueError, get_task

__all__ = [
    "CLASSES", "DEFAULT_POLICY", "STATION_DEFAULTS", "Destination", "Policy", "QueueError", "absent", "add_desk",
    "add_station_type", "bring_back", "call_next", "create_default_stations", "done", "enqueue_in_transaction",
    "enqueue_visit", "expected_wait", "expected_wait_s", "get_task", "left_after_absence", "next_destination",
    "priority_class", "recall", "route", "send_to", "set_desk_open", "skip", "start", "station_code", "triage", "triage_in_transaction",
]
