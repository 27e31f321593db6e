"""Synthetic ward: households, look-alike pairs, non-residents, invitation groups and name variants."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata

from fieldapp.synthetic.people import (
    CITY,
    OTHER_PLACES,
    STREETS,
    TONE_MARKS,
    WARD,
    IdMaker,
    NameMaker,
    Person,
    date_for_age,
)

# Child ages weighted so that under-2s are about 1.5 % and 3-14 about 20 % of residents.
CHILD_AGE_WEIGHTS = [0.75, 0.8, 0.8, 0.9, 0.95, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.9, 0.9, 0.8, 0.8]


class WardBuilder:
    """Builds households, residents and non-residents for one ward."""

    def __init__(self, residents: int, seed: int):
        self.rng = random.Random(seed)
        self.target = residents
        self.names = NameMaker(self.rng)
        self.ids = IdMaker(self.rng)
        self.people: list[Person] = []
        self.households: list[list[Person]] = []
        self.tdp_count = max(4, round(residents / 1250))
        self.tdp_streets = [STREETS[i % len(STREETS)] for i in range(self.tdp_count)]
        self.lookalikes: list[tuple[str, Person, Person]] = []

    def new_person(self, name: str, sex: str, birth: dt.date, **kwargs) -> Person:
        person = Person(pid=f"P{len(self.people) + 1:06d}", full_name=name, sex=sex, birth=birth, **kwargs)
        self.people.append(person)
        return person

    def add_resident(self, household: list[Person], hid: str, address: tuple, relation: str,
                     sex: str, birth: dt.date, family: str | None = None, name: str | None = None) -> Person:
        tdp, house, alley, street, text = address
        person = self.new_person(
            name or self.names.full(sex, birth.year, family), sex, birth,
            household_id=hid, tdp=tdp, relation=relation, address=text,
            house_number=house, alley=alley, street=street,
        )
        age = person.age
        if age >= 14:
            person.cccd = self.ids.cccd(sex, birth.year)
        if age >= 16 and self.rng.random() < (0.93 if age < 75 else 0.6):
            person.phone = self.ids.phone()
        if age >= 60 and birth.year <= 1955 and self.rng.random() < 0.09:
            person.year_only = True
        household.append(person)
        return person

    def make_address(self, tdp: int) -> tuple:
        rng = self.rng
        street = self.tdp_streets[tdp - 1]
        house = rng.randint(1, 99)
        alley = rng.choice([0] + [rng.randrange(5, 420) for _ in range(3)])
        if alley:
            text = f"Số {house}, ngõ {alley} {street}, tổ dân phố {tdp}, {WARD}, {CITY}"
        else:
            house = rng.randint(1, 650)
            text = f"Số {house} {street}, tổ dân phố {tdp}, {WARD}, {CITY}"
        return tdp, house, alley, street, text

    def add_children(self, household, hid, address, mother_age, family, mother, father, count):
        rng = self.rng
        ages = []
        age = rng.choices(range(len(CHILD_AGE_WEIGHTS)), CHILD_AGE_WEIGHTS)[0]
        for _ in range(count):
            if mother_age - age < 19:
                break
            ages.append(age)
            # Older siblings, so that the youngest child keeps the weighted age.
            age += rng.randint(2, 6)
        for age in ages:
            sex = "M" if rng.random() < 0.53 else "F"
            child = self.add_resident(household, hid, address, "Con", sex, date_for_age(rng, age), family)
            child.mother = mother
            parent = mother if mother and (rng.random() < 0.7 or not father) else father
            if age < 18 and parent:
                child.parent_name, child.parent_phone = parent.full_name, parent.phone
            if age < 1 and rng.random() < 0.12:
                child.newborn_unnamed = True

    def build_household(self, tdp: int) -> None:
        rng = self.rng
        hid = f"H{len(self.households) + 1:05d}"
        address = self.make_address(tdp)
        members: list[Person] = []
        kind = rng.choices(["young", "middle", "elderly", "single"], [52, 22, 18, 8])[0]

        if kind == "single":
            sex = rng.choice("MF")
            self.add_resident(members, hid, address, "Chủ hộ", sex, date_for_age(rng, rng.randint(20, 59)))
        elif kind in ("young", "middle"):
            head_age = rng.randint(24, 44) if kind == "young" else rng.randint(45, 59)
            family = self.names.family()
            head_sex = "M" if rng.random() < 0.82 else "F"
            head = self.add_resident(members, hid, address, "Chủ hộ", head_sex, date_for_age(rng, head_age),
                                     family if head_sex == "M" else None)
            spouse = None
            if rng.random() < 0.88:
                spouse_age = max(20, head_age + rng.randint(-6, 2) * (1 if head_sex == "M" else -1))
                spouse = self.add_resident(members, hid, address, "Vợ" if head_sex == "M" else "Chồng",
                                           "F" if head_sex == "M" else "M", date_for_age(rng, spouse_age),
                                           family if head_sex == "F" else None)
            mother = head if head_sex == "F" else spouse
            father = head if head_sex == "M" else spouse
            mother_age = mother.age if mother else head_age
            if kind == "young":
                self.add_children(members, hid, address, mother_age, family, mother, father, rng.choice([1, 1, 2, 2, 2, 3]))
                if rng.random() < 0.22:
                    sex = "F" if rng.random() < 0.7 else "M"
                    self.add_resident(members, hid, address, "Mẹ" if sex == "F" else "Bố", sex,
                                      date_for_age(rng, min(96, head_age + rng.randint(22, 34))),
                                      family if sex == "M" else None)
            else:
                for _ in range(rng.choice([0, 1, 1, 2])):
                    age = rng.randint(12, max(13, min(32, mother_age - 20)))
                    sex = rng.choice("MF")
                    child = self.add_resident(members, hid, address, "Con", sex, date_for_age(rng, age), family)
                    if age < 18 and mother:
                        child.parent_name, child.parent_phone = mother.full_name, mother.phone
            if rng.random() < 0.05:
                self.add_resident(members, hid, address, "Khác", rng.choice("MF"), date_for_age(rng, rng.randint(19, 40)))
        else:
            head_age = min(98, 60 + int(rng.expovariate(1 / 11)))
            family = self.names.family()
            head_sex = "M" if rng.random() < 0.6 else "F"
            head = self.add_resident(members, hid, address, "Chủ hộ", head_sex, date_for_age(rng, head_age),
                                     family if head_sex == "M" else None)
            if rng.random() < 0.6:
                self.add_resident(members, hid, address, "Vợ" if head_sex == "M" else "Chồng",
                                  "F" if head_sex == "M" else "M",
                                  date_for_age(rng, max(55, head_age + rng.randint(-7, 3))),
                                  family if head_sex == "F" else None)
            if rng.random() < 0.45:
                son_age = rng.randint(max(25, head_age - 45), max(26, head_age - 22))
                son = self.add_resident(members, hid, address, "Con", "M", date_for_age(rng, son_age),
                                        family if head_sex == "M" else None)
                wife = self.add_resident(members, hid, address, "Con dâu", "F", date_for_age(rng, max(22, son_age + rng.randint(-5, 1))))
                before = len(members)
                self.add_children(members, hid, address, wife.age, son.full_name.split()[0], wife, son, rng.choice([1, 2, 2]))
                for grandchild in members[before:]:
                    grandchild.relation = "Cháu"

        self.households.append(members)

    def build(self) -> None:
        """Create residents and look-alike pairs. Non-residents are added later, with the lists."""
        twin_pairs = max(1, round(self.target / 1000))
        tdp = 1
        while len(self.people) < self.target - twin_pairs:
            self.build_household(tdp)
            tdp = tdp % self.tdp_count + 1
        # Households are built whole, so trim the last one to hit the requested count.
        while len(self.people) > self.target - twin_pairs:
            removed = self.people.pop()
            self.households[-1].remove(removed)
        self.households = [h for h in self.households if h]
        self.add_twins(twin_pairs)
        self.add_father_son_same_name(max(1, round(self.target / 1500)))
        self.add_same_name_year_other_tdp(max(1, round(self.target / 1000)))
        self.household_by_id = {h[0].household_id: h for h in self.households}

    # -- look-alikes ---------------------------------------------------------

    NEAR_NAMES = {
        "M": [("An", "Ân"), ("Mạnh", "Minh"), ("Khang", "Khanh"), ("Tâm", "Tân"), ("Phúc", "Phú"),
              ("Hưng", "Hùng"), ("Long", "Lâm"), ("Sơn", "Sang")],
        "F": [("Hà", "Hân"), ("Ngọc", "Ngân"), ("Linh", "Lan"), ("Trang", "Trâm"), ("Vy", "Vi"),
              ("My", "Mi"), ("Thảo", "Thanh"), ("Anh", "Ánh")],
    }

    def add_twins(self, pairs: int) -> None:
        """Add a twin with a near name next to school-age children."""
        rng = self.rng
        candidates = [p for p in self.people if 3 <= p.age <= 14 and p.relation in ("Con", "Cháu")]
        rng.shuffle(candidates)
        used_households = set()
        for child in candidates:
            if pairs == 0:
                break
            if child.household_id in used_households:
                continue
            used_households.add(child.household_id)
            first, second = rng.choice(self.NEAR_NAMES[child.sex])
            words = child.full_name.split()
            if len(words) > 2:
                middle = words[1]
            else:
                middle = "Bảo" if child.sex == "M" else "Ngọc"
            child.full_name = f"{words[0]} {middle} {first}"
            household = next(h for h in self.households if h and h[0].household_id == child.household_id)
            twin = self.new_person(
                f"{words[0]} {middle} {second}", child.sex, child.birth,
                household_id=child.household_id, tdp=child.tdp, relation=child.relation,
                address=child.address, house_number=child.house_number, alley=child.alley,
                street=child.street, parent_name=child.parent_name, parent_phone=child.parent_phone,
            )
            twin.mother = child.mother
            household.append(twin)
            child.lookalike = twin.lookalike = True
            self.lookalikes.append(("twins_near_names", child, twin))
            pairs -= 1

    def add_father_son_same_name(self, pairs: int) -> None:
        for household in self.households:
            if pairs == 0:
                return
            head = household[0]
            if head.sex != "M" or head.age < 62 or head.lookalike:
                continue
            sons = [p for p in household if p.relation == "Con" and p.sex == "M" and p.age >= 25]
            if not sons:
                continue
            son = sons[0]
            son.full_name = head.full_name
            head.lookalike = son.lookalike = True
            self.lookalikes.append(("father_son_same_name", head, son))
            pairs -= 1

    def add_same_name_year_other_tdp(self, pairs: int) -> None:
        rng = self.rng
        elderly = [p for p in self.people if 62 <= p.age <= 85 and not p.lookalike and not p.year_only]
        rng.shuffle(elderly)
        for a, b in zip(elderly[0::2], elderly[1::2]):
            if pairs == 0:
                return
            if a.tdp == b.tdp or a.sex != b.sex or a.lookalike or b.lookalike:
                continue
            b.full_name = a.full_name
            day = min(b.birth.day, 28)
            b.birth = dt.date(a.birth.year, b.birth.month, day)
            if b.birth == a.birth:
                b.birth += dt.timedelta(days=40)
            b.cccd = self.ids.cccd(b.sex, b.birth.year)
            a.lookalike = b.lookalike = True
            self.lookalikes.append(("same_name_year_other_tdp", a, b))
            pairs -= 1

    # -- non-residents -------------------------------------------------------

    def add_non_resident(self, sex: str, birth: dt.date, adult: bool) -> Person:
        rng = self.rng
        place, province = rng.choice(OTHER_PLACES)
        address = f"Số {rng.randint(1, 300)}, tổ dân phố {rng.randint(1, 30)}, {place}" if rng.random() < 0.5 else place
        person = self.new_person(self.names.full(sex, birth.year), sex, birth, resident=False, address=address)
        if adult:
            person.cccd = self.ids.cccd(sex, birth.year, province)
            person.phone = self.ids.phone() if rng.random() < 0.9 else ""
        else:
            parent_sex = "F" if rng.random() < 0.7 else "M"
            person.parent_name = self.names.full(parent_sex, birth.year - 30, person.full_name.split()[0] if parent_sex == "M" else None)
            person.parent_phone = self.ids.phone()
        return person


# ---------------------------------------------------------------------------
# Groups and variants


def assign_groups(ward: WardBuilder) -> None:
    """Mark who belongs to each invitation group."""
    rng = ward.rng
    residents = [p for p in ward.people if p.resident]
    for p in residents:
        age = p.age
        if age >= 60:
            p.groups.add("elderly")
            if rng.random() < 0.02:
                p.groups.add("merit")
        if age < 2:
            p.groups.add("under2")
        birth_year = p.birth.year
        # School year 2025-2026: preschool born 2020-2022, primary 2015-2019, secondary 2011-2014.
        if 2020 <= birth_year <= 2022 and rng.random() < 0.93:
            p.groups.add("preschool")
        elif 2015 <= birth_year <= 2019:
            p.groups.add("primary")
        elif 2011 <= birth_year <= 2014 and rng.random() < 0.98:
            p.groups.add("secondary")
        if 18 <= age <= 55 and rng.random() < 0.03:
            p.groups.add("worker")
        if rng.random() < (0.011 if age >= 5 else 0.003):
            p.groups.add("disabled")
            if rng.random() < 0.5:
                p.groups.add("social_protection")
        elif age >= 80 and rng.random() < 0.12:
            p.groups.add("social_protection")
        elif age < 16 and rng.random() < 0.002:
            p.groups.add("social_protection")

    for household in ward.households:
        roll = rng.random()
        kind = None
        if roll < 0.012:
            kind = "poor"
        elif roll < 0.036:
            kind = "near_poor"
        if kind:
            for p in household:
                p.groups.add(kind)


def apply_variants(ward: WardBuilder) -> None:
    """Give a few listed adults a consistently different name or birth date in the lists."""
    rng = ward.rng
    for p in ward.people:
        if not p.resident or p.lookalike or p.age < 18 or not p.groups or rng.random() > 0.012:
            continue
        kind = rng.choices(["name_drop_middle", "name_tone_wrong", "dob_day", "dob_swap"], [40, 25, 25, 10])[0]
        words = p.full_name.split()
        if kind == "name_drop_middle" and len(words) >= 3:
            p.name_in_lists = f"{words[0]} {words[-1]}"
        elif kind == "name_tone_wrong":
            changed = change_tone(rng, p.full_name)
            if changed == p.full_name:
                continue
            p.name_in_lists = changed
        elif kind == "dob_day" and not p.year_only:
            day = rng.choice([d for d in range(1, 29) if d != p.birth.day])
            p.birth_in_lists = p.birth.replace(day=day)
        elif kind == "dob_swap" and not p.year_only and p.birth.day <= 12 and p.birth.day != p.birth.month:
            p.birth_in_lists = p.birth.replace(day=p.birth.month, month=p.birth.day)
        else:
            continue
        p.variant = kind


def change_tone(rng: random.Random, name: str) -> str:
    """Swap the tone mark of one syllable for another tone, keeping the rest."""
    words = unicodedata.normalize("NFD", name).split()
    toned = [i for i, w in enumerate(words) if any(c in TONE_MARKS for c in w)]
    if not toned:
        return name
    i = rng.choice(toned)
    old = next(c for c in words[i] if c in TONE_MARKS)
    new = rng.choice([t for t in TONE_MARKS if t != old])
    words[i] = words[i].replace(old, new)
    return unicodedata.normalize("NFC", " ".join(words))
