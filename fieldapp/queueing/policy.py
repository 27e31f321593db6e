"""Priority classes and the numbers that order lines; see fieldapp/queueing/__init__.py for the formula."""

from dataclasses import dataclass

CLASSES = ("emergency", "priority", "normal")


@dataclass(frozen=True)
class Policy:
    """Settings for priority classes, line order, absences and routing; every number is configurable."""

    # Two hours. On a normal day lines are short, so priority people go first. On an overloaded day a
    # normal person who has waited two hours longer still goes ahead (measured in bench/queue_sim.py).
    priority_head_start_min: float = 120
    emergency_head_start_s: float = 10**9
    elderly_age: int = 75
    child_age: int = 6                    # children under this age get priority
    priority_flags: frozenset[str] = frozenset({"disabled", "pregnant", "merit"})
    merit_group: int = 1                  # roster group 1: người có công với cách mạng
    absent_penalty_min: float = 5
    max_calls: int = 3
    running_mean_window: int = 20         # the mean follows the last ~20 people at a desk
    routing: str = "shortest_wait"        # or "plan_order": the plan's fixed station order

    def head_start_s(self, priority: str) -> float:
        if priority == "emergency":
            return self.emergency_head_start_s
        if priority == "priority":
            return self.priority_head_start_min * 60
        return 0.0


DEFAULT_POLICY = Policy()

def priority_class(age: int | None, groups: set[int] = frozenset(), flags: set[str] = frozenset(),
                   policy: Policy = DEFAULT_POLICY) -> str:
    """Return emergency, priority or normal from age, roster groups and flags such as "pregnant"."""
    if "emergency" in flags:
        return "emergency"
    if age is not None and (age >= policy.elderly_age or age < policy.child_age):
        return "priority"
    if policy.merit_group in groups or flags & policy.priority_flags:
        return "priority"
    return "normal"
