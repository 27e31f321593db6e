"""The devices of an exam day (tests/day_load.py): what each role's phone, tablet or TV requests, and when.

Each device sends the requests its pages send, in the same order. Form posts carry an idempotency key
as static/js/offline.js adds them: a header on htmx posts, a hidden field on plain forms. A post that
gets no response, a 5xx, or 408, 409, 425 or 429 is sent again with the same key every retry_seconds,
as the offline queue replays it, until the server acknowledges it or give_up_seconds pass. A page that
does not load is opened again in the same way. Redirects are followed as a browser does, with a GET.
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from phone import Phone, Reply
from site_day import readings

if TYPE_CHECKING:
    import random

    from day_load import DayLoad

TEMPLATES = Path(__file__).resolve().parent.parent / "fieldapp" / "templates"
RETRY_LATER = {408, 409, 425, 429}
# Seconds at speed 1 that a person spends between two requests, drawn uniformly from (low, high).
PAUSES = {
    "switch_on": (0, 60),    # every device: staff open the day's page over the first minute, not all at once
    "slip": (3, 6),          # reception: the person hands over the slip and the phone scans it
    "typing": (5, 10),       # reception: type a name and birth year
    "consent": (5, 10),      # reception: check the face, read the notice, tick consent
    "react": (1, 3),         # station: see someone in the line and tap Call
    "walk": (5, 15),         # station: the called person walks to the desk
    "row": (5, 15),          # station: measure and type one row of the entry form
    "read": (10, 25),        # doctor: read the results
    "write": (8, 15),        # doctor: write the conclusion
    "print": (2, 5),         # doctor: print the result sheet
}
SEARCH_SHARE = 0.1           # people found by a name search instead of the slip
ABSENT_SHARE = 0.02          # calls the person does not answer
START_SHARE = 0.5            # people whose desk taps Start when they sit down
DOCTOR_LIST_EVERY = 5        # the doctor opens today's list after every fifth conclusion
ENTRY_STATIONS = ("measure", "blood_pressure", "glucose", "vision", "dental", "ent", "exam", "lab")
DEFAULT_TEXT = "Bình thường."
# mmHg the drawn diastolic pressure stays below the systolic; the entry form rejects a diastolic at or above it.
BP_MIN_GAP = 20

_PERSON = re.compile(r'name="person_id" value="([^"]+)"')
_TICKET = re.compile(r'href="/display/ticket/([^"]+)"')
_SERVING = re.compile(r'<article class="card person[^"]*" data-task="([^"]+)">(.*?)</article>', re.DOTALL)
_VISIT_LINK = re.compile(r'href="/(?:entry|doctor)/visit/([^/"]+)')
_REFUSED = re.compile(r'<div class="message refuse" role="alert">\s*<p>(.*?)</p>', re.DOTALL)
_AGE_MONTHS = re.compile(r"(\d+) tháng tuổi")
_AGE_YEARS = re.compile(r"(\d+) tuổi")


def poll_seconds(template: str) -> float:
    """Return the htmx polling interval of a template ("every 1s", "every 1500ms"), so the devices follow the product."""
    found = re.search(r'hx-trigger="every (\d+(?:\.\d+)?)(ms|s)"', (TEMPLATES / template).read_text(encoding="utf-8"))
    if found is None:
        raise ValueError(f"no htmx polling interval in {template}")
    value = float(found.group(1))
    return value / 1000 if found.group(2) == "ms" else value


STATION_POLL_SECONDS = poll_seconds("stations/_line.html")
COORDINATOR_POLL_SECONDS = poll_seconds("stations/_overview.html")
DISPLAY_POLL_SECONDS = poll_seconds("display/index.html")


# Reading forms.

@dataclass
class FormField:
    """An input, textarea or select of a form, with the entry-form row it is in."""

    name: str
    kind: str                 # the input type, "textarea" or "select"
    value: str
    checked: bool
    row: str | None
    attrs: dict = field(default_factory=dict)


class FormReader(HTMLParser):
    """The fields of the form whose action is `action`, and the data attributes of its rows (data-row)."""

    def __init__(self, text: str, action: str):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.found = False
        self.fields: list[FormField] = []
        self.rows: dict[str, dict] = {}
        self._inside = False
        self._row: str | None = None
        self._text: FormField | None = None
        self._options = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = {name: value if value is not None else "" for name, value in attrs}
        if tag == "form":
            self._inside = attributes.get("action") == self.action
            self.found = self.found or self._inside
            return
        if not self._inside:
            return
        if tag == "div" and "data-row" in attributes:
            self._row = attributes["data-row"]
            self.rows[self._row] = attributes
        elif "form" in attributes:
            # A field that names another form with its form attribute is sent with that form.
            return
        elif tag == "input" and attributes.get("name"):
            self.fields.append(FormField(attributes["name"], attributes.get("type", "text"),
                                         attributes.get("value", ""), "checked" in attributes, self._row, attributes))
        elif tag in ("textarea", "select") and attributes.get("name"):
            self._text = FormField(attributes["name"], tag, "", False, self._row, attributes)
            self._options = 0
            self.fields.append(self._text)
        elif tag == "option" and self._text is not None and self._text.kind == "select":
            # The selected option, or else the first, is what the browser sends.
            if "selected" in attributes or not self._options:
                self._text.value = attributes.get("value", "")
            self._options += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag in ("textarea", "select"):
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None and self._text.kind == "textarea":
            self._text.value += data

    def values(self) -> list[tuple[str, str]]:
        """Return what the browser would send: every field, but only the ticked radios and checkboxes."""
        return [(f.name, f.value) for f in self.fields if f.kind not in ("radio", "checkbox") or f.checked]


# The device.

class Device:
    """A signed-in device: its phone, its role's work loop, and helpers that record every request."""

    poll_seconds = 0.0

    def __init__(self, name: str, phone: Phone, day: DayLoad, desk: tuple[str, str] | None = None):
        self.name = name
        self.phone = phone
        self.day = day
        self.desk = desk
        self.rng: random.Random | None = None

    def home(self) -> str:
        """Return the page the device shows after sign-in."""
        raise NotImplementedError

    def work(self) -> None:
        """Do one step of the role's work; run() calls it until the day stops."""
        raise NotImplementedError

    def run(self) -> None:
        # Devices started together would load their pages in one burst and poll in step all day.
        if not self.pause("switch_on"):
            return
        while not self.day.stopping.is_set():
            try:
                self.work()
            except Exception as error:  # noqa: BLE001 - a page the driver cannot read is recorded, and the device goes on
                self.day.recorder.error(f"{self.name}: {type(error).__name__}: {error}")
                self.day.sleep(self.day.retry_seconds)

    def pause(self, name: str) -> bool:
        return self.day.pause(self.rng, PAUSES[name])

    @staticmethod
    def path(route: str, params: dict | None = None, query: str = "") -> str:
        for name, value in (params or {}).items():
            route = route.replace(f"<{name}>", value)
        return route + (f"?{query}" if query else "")

    def get(self, route: str, params: dict | None = None, query: str = "", htmx: bool = False) -> Reply | None:
        """GET a page, or its fragment with htmx; record it and return the reply, or None when none came."""
        endpoint = f"GET {route}" + (" (htmx)" if htmx else "")
        try:
            reply = self.phone.request("GET", self.path(route, params, query), headers={"HX-Request": "true"} if htmx else None)
        except (http.client.HTTPException, OSError) as error:
            self.day.recorder.add(endpoint, 0, 0.0, False, f"{type(error).__name__}: {error}")
            return None
        self.day.recorder.add(endpoint, reply.status, reply.elapsed_ms, reply.status == 200)
        return reply if reply.status == 200 else None

    def open(self, route: str, params: dict | None = None, query: str = "") -> Reply | None:
        """Open a page, again every retry_seconds while it does not load, as staff reload it; None on stop or give-up."""
        deadline = time.monotonic() + self.day.give_up_seconds
        while not self.day.stopping.is_set():
            reply = self.get(route, params, query)
            if reply is not None:
                return reply
            if time.monotonic() > deadline or not self.day.sleep(self.day.retry_seconds):
                return None
        return None

    def follow(self, reply: Reply, route: str, params: dict | None = None) -> Reply | None:
        """Follow a post's redirect, which must lead to route; None when it leads elsewhere or does not load."""
        expected = self.path(route, params)
        location = urllib.parse.urlsplit(reply.location).path
        if location != expected:
            self.day.recorder.error(f"{self.name}: redirected to {location!r}, expected {expected!r}")
            return None
        return self.open(route, params)

    def post(self, route: str, params: dict | None, form: list[tuple[str, str]] | dict, htmx: bool = False,
             expect: tuple[int, ...] = (200,)) -> tuple[Reply | None, str]:
        """Send a form post with a new idempotency key until the server acknowledges it; return the reply and key.

        Returns (None, key) when the post was not acknowledged before the day stopped or give_up_seconds
        passed, and the reply when the server rejected it (a 4xx other than RETRY_LATER).
        """
        key = str(uuid.uuid4())
        endpoint = f"POST {route}" + (" (htmx)" if htmx else "")
        fields = list(form.items()) if isinstance(form, dict) else list(form)
        headers = {"X-CSRFToken": self.phone.csrf}
        if htmx:
            headers.update({"HX-Request": "true", "Idempotency-Key": key})
        else:
            fields.append(("idempotency_key", key))
        if not any(name == "csrf_token" for name, _ in fields):
            fields.append(("csrf_token", self.phone.csrf))
        deadline = time.monotonic() + self.day.give_up_seconds
        while True:
            reply, problem = self._send_post(self.path(route, params), fields, headers)
            acknowledged = reply is not None and 200 <= reply.status < 400 and not reply.location.endswith("/login")
            if acknowledged:
                expected = reply.status in expect or reply.replayed
                self.day.recorder.add(endpoint, reply.status, reply.elapsed_ms, expected)
                return reply, key
            status = reply.status if reply is not None else 0
            if reply is not None:
                # An entry form names the refused value: keep the first message with the status.
                refused = _REFUSED.search(reply.text)
                problem = f"HTTP {status}" + (f": {refused.group(1).strip()}" if refused else "")
            self.day.recorder.add(endpoint, status, reply.elapsed_ms if reply else 0.0, False, problem)
            if reply is not None and status not in RETRY_LATER and status < 500 and not reply.location:
                return reply, key
            if time.monotonic() > deadline or not self.day.sleep(self.day.retry_seconds):
                return None, key

    def _send_post(self, path: str, fields: list, headers: dict) -> tuple[Reply | None, str]:
        self.day.recorder.count_post(1)
        try:
            return self.phone.request("POST", path, fields, headers), ""
        except (http.client.HTTPException, OSError) as error:
            return None, f"{type(error).__name__}: {error}"
        finally:
            self.day.recorder.count_post(-1)

    def poll(self, route: str, query: str = "", until=None) -> Reply | None:
        """GET the fragment every poll_seconds, as htmx's `every` trigger does, until until(reply) or the day stops."""
        clock = time.monotonic
        due = clock() + self.poll_seconds
        while self.day.sleep(due - clock()):
            reply = self.get(route, self.desk_params(), query, htmx=True)
            while due <= clock():
                due += self.poll_seconds
            if reply is not None and until is not None and until(reply):
                return reply
        return None

    def desk_params(self) -> dict:
        return {"desk_id": self.desk[1]} if self.desk else {}


# Reception.

class Reception(Device):
    """A phone at the door: scans each arriving person's slip, or finds them by name, and checks them in."""

    def home(self) -> str:
        return "/checkin/"

    def work(self) -> None:
        person = self.day.arrivals.take(self.day.stopping)
        if person is None:
            # Everyone is in; a person sent back after a failed check-in may still come.
            self.day.sleep(1.0)
            return
        if not self.check_in(person):
            self.day.arrivals.send_back(person)

    def check_in(self, person) -> bool:
        """Check a person in; return False when the server did not respond, so the person waits at the door."""
        if not self.pause("slip"):
            return True

        found = self.find_by_name(person) if self.rng.random() < SEARCH_SHARE else None
        if found is None:
            found, _ = self.post("/checkin/scan", None, {"code": person.token}, htmx=True)
        if found is None or found.status != 200:
            return found is not None
        if 'data-outcome="already"' in found.text:
            return True
        person_field = _PERSON.search(found.text)
        if person_field is None or person_field.group(1) != person.person_id:
            self.day.recorder.error(f"{self.name}: the slip of {person.person_id} did not show that person")
            return True

        form = self.consent_form(found.text, person.person_id)
        if not self.pause("consent"):
            return True
        reply, key = self.post("/checkin/visit", None, form, htmx=True)
        if reply is None:
            return False
        visit = _TICKET.search(reply.text)
        if reply.replayed and visit is None:
            # The server ran this check-in before, but its response was lost. The slip shows the visit.
            again, _ = self.post("/checkin/scan", None, {"code": person.token}, htmx=True)
            visit = _TICKET.search(again.text) if again is not None else None
        if reply.status != 200 and not reply.replayed:
            return True

        self.day.journal.add("check_in", key, visit.group(1) if visit else None, person_id=person.person_id,
                             token=person.token)
        return True

    def find_by_name(self, person) -> Reply | None:
        """Type the name and birth year, and open the person from the results; None when they are not listed."""
        if not self.pause("typing"):
            return None
        results, _ = self.post("/checkin/search", None, {"q": f"{person.name} {person.birth_year}".strip()}, htmx=True)
        if results is None or f"/checkin/person/{person.person_id}" not in results.text:
            self.day.recorder.event("search_not_listed")
            return None
        return self.get("/checkin/person/<person_id>", {"person_id": person.person_id}, htmx=True)

    @staticmethod
    def consent_form(page: str, person_id: str) -> dict:
        form = {"person_id": person_id, "consent": "1", "consent_by": "self"}
        if 'value="guardian" checked' in page:
            # A child: the page preselects the guardian; a parent agrees and a child from 7 assents.
            form.update(consent_by="guardian", guardian_name="Nguyễn Văn Bố")
        if 'name="child_assent"' in page:
            form["child_assent"] = "1"
        if 'name="confirm_site"' in page:
            form["confirm_site"] = "1"
        return form


# Station phones and doctors.

@dataclass(frozen=True)
class Called:
    """A person called to the desk, as the desk page shows them."""

    task_id: str
    visit_id: str
    called: bool              # False once the desk has tapped Start


class Station(Device):
    """A phone at one desk: calls the next person, enters their measurements and sends them on."""

    poll_seconds = STATION_POLL_SECONDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.page: Reply | None = None

    def home(self) -> str:
        return f"/stations/desk/{self.desk[1]}"

    @staticmethod
    def serving(page: Reply) -> list[Called]:
        found = []
        for task_id, card in _SERVING.findall(page.text):
            visit = _VISIT_LINK.search(card)
            if visit is not None:
                found.append(Called(task_id, visit.group(1), 'value="start"' in card))
        return found

    @staticmethod
    def has_line(page: Reply) -> bool:
        return '<ol class="waiting">' in page.text

    def work(self) -> None:
        page, self.page = self.page or self.open("/stations/desk/<desk_id>", self.desk_params()), None
        if page is None:
            return
        serving = self.serving(page)
        if serving:
            self.serve(serving[0])
            return
        if not self.has_line(page) and self.poll("/stations/desk/<desk_id>", until=self.has_line) is None:
            return
        if not self.pause("react"):
            return
        reply, key = self.post("/stations/desk/<desk_id>/call", self.desk_params(), {}, expect=(302,))
        if reply is None:
            return
        self.page = self.follow(reply, "/stations/desk/<desk_id>", self.desk_params())
        if self.page is None:
            return
        before = {called.task_id for called in serving}
        for called in self.serving(self.page):
            if called.task_id not in before:
                self.day.journal.add("call", key, called.visit_id, task_id=called.task_id, desk_id=self.desk[1])

    def act(self, action: str, called: Called) -> bool:
        """Post a desk action for the person and follow the redirect to the desk page; True when acknowledged."""
        reply, key = self.post("/stations/desk/<desk_id>/task", self.desk_params(),
                               {"task_id": called.task_id, "action": action}, expect=(302,))
        if reply is None or reply.status >= 400:
            return False
        self.day.journal.add(action, key, called.visit_id, task_id=called.task_id)
        self.page = self.follow(reply, "/stations/desk/<desk_id>", self.desk_params())
        return True

    def serve(self, called: Called) -> None:
        if called.called:
            if not self.pause("walk"):
                return
            if self.rng.random() < ABSENT_SHARE:
                self.day.recorder.event("absent")
                self.act("absent", called)
                return
            if self.rng.random() < START_SHARE and not self.act("start", called):
                return
        if self.desk[0] in ENTRY_STATIONS:
            self.enter(called.visit_id)
        if not self.day.stopping.is_set():
            self.act("done", called)

    # The entry form.

    def enter(self, visit_id: str) -> None:
        """Open the visit's entry form, type each row with its row check, save, and confirm unusual values."""
        params = {"visit_id": visit_id, "station_code": self.desk[0]}
        route = "/entry/visit/<visit_id>/<station_code>"
        page = self.open(route, params)
        if page is None:
            return
        values = self.measurements(page.text)
        for third in (False, True):
            form = FormReader(page.text, self.path(route, params))
            typed = self.type_rows(form, values, visit_id, third)
            if typed is None:
                return
            if not typed:
                continue
            page = self.save(route, params, typed)
            if page is None:
                return

    def measurements(self, page: str) -> dict[str, str]:
        """Draw a plausible exam for the person on the page, as {"item.reading": typed text}."""
        from fieldapp import clinical
        from fieldapp.entry_form import value_text

        months, years = _AGE_MONTHS.search(page), _AGE_YEARS.search(page)
        age = 40
        if months:
            age = int(months.group(1)) // 12
        elif years:
            age = int(years.group(1))
        drawn = {(item, reading): value for item, reading, value in readings(self.rng, age)}
        # tests/site_day.py draws a child's waist from the weight, below the plausible 30 cm. A child of 3 to
        # 6 years outside the school lists gets the adult plan, which measures the waist.
        drawn[("waist_cm", 1)] = max(drawn[("waist_cm", 1)], round(40 + 2 * age + self.rng.gauss(0, 3), 1))
        for reading in (1, 2, 3):
            # It draws the two pressures independently too, so now and then the diastolic is the higher.
            systolic = drawn[("bp_systolic", reading)]
            drawn[("bp_diastolic", reading)] = min(drawn[("bp_diastolic", reading)], systolic - BP_MIN_GAP)
        return {f"{item}.{reading}": value_text(clinical.get(item), value) for (item, reading), value in drawn.items()}

    def type_rows(self, form: FormReader, values: dict[str, str], visit_id: str,
                  third: bool) -> list[tuple[str, str]] | None:
        """Fill the open rows, sending each number row's check as the nurse leaves it; None when stopping.

        The third blood pressure row is typed only when `third` is set and the page marks it as needed.
        """
        typed: list[tuple[str, str]] = [(f.name, f.value) for f in form.fields if f.kind == "hidden"]
        entered = []
        for key, attributes in form.rows.items():
            if "data-third-reading" in attributes and not (third and "data-needed" in attributes):
                continue
            members = [f for f in form.fields if f.row == key and f.kind != "hidden"]
            row_values = self.fill(members, values)
            if not row_values:
                continue
            if not self.pause("row"):
                return None
            typed += row_values
            entered.append(key)
            if any(f.kind == "text" for f in members):
                check = [*typed, ("group", key)]
                self.unkeyed_post("/entry/visit/<visit_id>/<station_code>/check",
                                  {"visit_id": visit_id, "station_code": self.desk[0]}, check)
        return typed if entered else []

    def fill(self, members: list[FormField], values: dict[str, str]) -> list[tuple[str, str]]:
        """Return the values a nurse types into one row's fields."""
        filled = []
        for each in members:
            if each.kind == "text":
                key = f"{each.attrs.get('data-item')}.{each.attrs.get('data-reading', '1')}"
                filled.append((each.name, values.get(key, self.middle(each))))
            elif each.kind == "textarea":
                filled.append((each.name, values.get(each.name, DEFAULT_TEXT)))
            elif each.kind == "radio" and each.name.endswith(".item"):
                if each.checked:
                    filled.append((each.name, each.value))
            elif each.kind in ("radio", "checkbox") and not each.name.startswith("confirm."):
                chosen = values.get(each.name, "normal").split(",")
                if each.value in chosen:
                    filled.append((each.name, each.value))
        return filled

    @staticmethod
    def middle(each: FormField) -> str:
        low, high = float(each.attrs.get("data-low", 0)), float(each.attrs.get("data-high", 10))
        return f"{(low + high) / 2:.0f}"

    def save(self, route: str, params: dict, typed: list[tuple[str, str]]) -> Reply | None:
        """Save the typed rows, confirm unusual values when the page requests it, and return the form page after saving."""
        reply, key = self.post(route, params, typed, expect=(303, 200))
        if reply is not None and reply.status == 200 and "confirm." in reply.text:
            self.day.recorder.event("confirmation")
            form = FormReader(reply.text, self.path(route, params))
            ticked = [(f.name, f.value) for f in form.fields if f.name.startswith("confirm.")]
            reply, key = self.post(route, params, [*form.values(), *ticked], expect=(303,))
        if reply is None or reply.status != 303:
            return None
        entered = {}
        for name, value in typed:
            if name.endswith(".item") or name in ("csrf_token", "idempotency_key") or name.startswith("replaces."):
                continue
            entered[name] = f"{entered[name]},{value}" if name in entered else value
        glucose = dict(typed).get("glucose.item")
        if glucose and "glucose" in entered:
            entered[f"{glucose}.1"] = entered.pop("glucose")
        self.day.journal.add("observations", key, params["visit_id"], station=params["station_code"], values=entered)
        return self.follow(reply, route, params)

    def unkeyed_post(self, route: str, params: dict, fields: list[tuple[str, str]]) -> None:
        """Send a row check as entry.js does: fetch with the CSRF header, no idempotency key, never resent."""
        endpoint = f"POST {route}"
        try:
            reply = self.phone.request("POST", self.path(route, params), fields, {"X-CSRFToken": self.phone.csrf})
        except (http.client.HTTPException, OSError) as error:
            self.day.recorder.add(endpoint, 0, 0.0, False, f"{type(error).__name__}: {error}")
            return
        self.day.recorder.add(endpoint, reply.status, reply.elapsed_ms, reply.status == 200)


class Doctor(Station):
    """A doctor's tablet at the doctor's desk: calls, reads the results, concludes and finishes the visit."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.concluded = 0

    def serve(self, called: Called) -> None:
        if called.called and not self.pause("walk"):
            return
        params = {"visit_id": called.visit_id}
        page = self.open("/doctor/visit/<visit_id>", params)
        if page is None or not self.pause("read"):
            return
        form = FormReader(page.text, f"/doctor/visit/{called.visit_id}")
        # A saved conclusion shows the correction form, with its reason field: only the finish is left.
        if not any(f.name == "reason" for f in form.fields) and not self.conclude(form, params):
            return
        reply, key = self.post("/doctor/visit/<visit_id>/finish", params, {}, expect=(302,))
        if reply is None or reply.status >= 400:
            return
        self.day.journal.add("finish", key, called.visit_id)
        self.follow(reply, "/doctor/visit/<visit_id>/sheet", params)
        self.pause("print")
        self.concluded += 1
        if self.concluded % DOCTOR_LIST_EVERY == 0:
            self.open("/doctor/")

    def conclude(self, form: FormReader, params: dict) -> bool:
        """Write and save a first conclusion; True when the server acknowledged it."""
        health_class = self.rng.choice(("I", "II", "II", "III"))
        summary = f"Sức khỏe loại {health_class}." if health_class != "III" else "Có bệnh cần theo dõi."
        fields = [(name, value) for name, value in form.values()
                  if name not in ("health_class", "summary", "advice", "diagnosis_codes")]
        fields += [("health_class", health_class), ("summary", summary),
                   ("advice", "Ăn giảm muối, vận động 30 phút mỗi ngày."), ("diagnosis_codes", "")]
        if not self.pause("write"):
            return False
        reply, key = self.post("/doctor/visit/<visit_id>", params, fields, expect=(302,))
        if reply is None or reply.status >= 400:
            return False
        self.day.journal.add("conclusion", key, params["visit_id"], health_class=health_class, summary=summary)
        self.follow(reply, "/doctor/visit/<visit_id>", params)
        return True


# Screens that only poll.

class Coordinator(Device):
    """The coordinator's tablet: the overview of every line, refreshed as its page does."""

    poll_seconds = COORDINATOR_POLL_SECONDS

    def home(self) -> str:
        return "/stations/coordinator"

    def work(self) -> None:
        if self.open("/stations/coordinator") is not None:
            self.poll("/stations/coordinator")


class Display(Device):
    """A waiting-room TV, signed in with a coordinator account: the board, refreshed as its page does."""

    poll_seconds = DISPLAY_POLL_SECONDS

    def home(self) -> str:
        return f"/display/?site={self.day.ward.site_id}"

    def work(self) -> None:
        query = f"site={self.day.ward.site_id}"
        if self.open("/display/", query=query) is not None:
            self.poll("/display/board", query)


ROLES = {"reception": Reception, "station": Station, "doctor": Doctor, "coordinator": Coordinator,
         "display": Display}
