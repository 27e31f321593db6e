"""FHIR R4 export: one Bundle (type collection) per examined visit, with Patient, Encounter, Observations, Conditions.

One bundle per visit keeps each file one person's exam, so a receiving system can take or refuse it
alone. The file is named after the visit id, never after the person. The resources follow FHIR R4
(4.0.1) and are validated with the R4B models of fhir.resources, whose Patient, Encounter,
Observation, Condition and Bundle match R4 (HL7 limited the R4B changes to medication definition,
evidence and subscription resources: hl7.org/fhir/R4B/r4b-explanation.html).

- Patient: the CCCD (or old CMND) number with the identifier systems of the HL7 Vietnam community
  "VN Core" implementation guide (draft 0.x, NamingSystem vn-cccd-ns and vn-cmnd-ns), the central
  person id as a urn:uuid, the name (family name first word, given names the rest, text as written),
  gender, the birth date with its stored precision (yyyy, yyyy-mm or yyyy-mm-dd) and the address text.
- Encounter: finished, class AMB at the health station, FLD (field) at a school or community site.
- Observation: every current value whose item has a LOINC code in fieldapp/data/items.json, with
  UCUM units; each blood-pressure reading as a panel 85354-9 with components 8480-6 and 8462-4;
  visual acuity written "8/10" as a ratio; BMI and the pressure means with derivedFrom. Values with
  no LOINC code (z-scores, hearing in metres, free text) are left out.
- Condition: each diagnosis of the doctor's current conclusion, coded in ICD-10.
"""

import json
import uuid
from pathlib import Path

from .. import clinical
from ..clinical.numbers import unit_label
from ..db import now
from ..results import Result
from .ward import Exam, Person, Ward

CCCD_SYSTEM = "http://fhir.hl7.org.vn/core/sid/cccd"
CMND_SYSTEM = "http://fhir.hl7.org.vn/core/sid/cmnd"
URI_SYSTEM = "urn:ietf:rfc:3986"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
BP_PANEL, SYSTOLIC, DIASTOLIC = "85354-9", "8480-6", "8462-4"
# Derived resource ids are UUIDv5 in this namespace, so an export run twice writes the same ids.
ID_NAMESPACE = uuid.UUID("6f1c3c52-6a59-4d0e-9a57-0b7c1d6e2f10")
LABORATORY_ITEMS = {"glucose_fasting_mmol", "glucose_random_mmol", "glucose_ogtt_2h_mmol", "hba1c_percent"}
EXAM_ITEMS = {"vision_left", "vision_right", "vision_left_glasses", "vision_right_glasses", "waist_cm"}
# Flags as v3 interpretation codes; "unusual" (borderline) has no code and is given as text only.
INTERPRETATION_CODES = {"normal": ("N", "Normal"), "abnormal": ("A", "Abnormal"), "red": ("AA", "Critical abnormal")}
FIELD_SITE_KINDS = {"school", "community", "workplace"}


def _urn(resource_id: str) -> str:
    return f"urn:uuid:{resource_id}"


def _derived_id(*parts: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, "|".join(parts)))


def _reference(resource_id: str) -> dict:
    return {"reference": _urn(resource_id)}


def patient(person: Person) -> dict:
    """Return the Patient resource of a central person."""
    shown = person.payload
    identifiers = []
    if shown.get("cccd"):
        identifiers.append({"use": "official", "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "NI"}],
                                                        "text": "Số CCCD"},
                            "system": CCCD_SYSTEM, "value": shown["cccd"]})
    if shown.get("cmnd"):
        identifiers.append({"use": "old", "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "NI"}],
                                                   "text": "Số CMND"},
                            "system": CMND_SYSTEM, "value": shown["cmnd"]})
    identifiers.append({"system": URI_SYSTEM, "value": _urn(person.id)})

    resource = {"resourceType": "Patient", "id": person.id, "identifier": identifiers,
                "gender": {"M": "male", "F": "female"}.get(shown.get("sex") or "", "unknown")}
    words = (shown.get("full_name") or "").split()
    if words:
        name = {"use": "official", "text": " ".join(words), "family": words[0]}
        if len(words) > 1:
            name["given"] = words[1:]
        resource["name"] = [name]
    if shown.get("birth_date"):
        resource["birthDate"] = shown["birth_date"]
    if shown.get("address"):
        resource["address"] = [{"use": "home", "text": shown["address"], "country": "VN"}]
    return resource


def encounter(person: Person, exam: Exam) -> dict:
    """Return the Encounter of an exam: the visit, at its site, on its day."""
    field = exam.site.get("kind") in FIELD_SITE_KINDS
    resource = {
        "resourceType": "Encounter", "id": exam.visit["id"],
        "identifier": [{"system": URI_SYSTEM, "value": _urn(exam.visit["id"])}],
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "FLD" if field else "AMB", "display": "field" if field else "ambulatory"},
        "type": [{"text": "Khám sức khỏe định kỳ"}],
        "subject": _reference(person.id),
        "period": {"start": exam.visit.get("checked_in_at") or exam.day},
    }
    if exam.site.get("name"):
        resource["location"] = [{"location": {"display": exam.site["name"]}}]
    return resource


def _quantity(value: float, unit: str | None) -> dict:
    quantity = {"value": value}
    if unit:
        quantity.update(unit=unit_label(unit), system=UCUM, code=unit)
    return quantity


def _category(item: str) -> list[dict]:
    code = "vital-signs"
    if item in LABORATORY_ITEMS:
        code = "laboratory"
    elif item in EXAM_ITEMS:
        code = "exam"
    return [{"coding": [{"system": CATEGORY, "code": code}]}]


def _interpretation(result: Result) -> list[dict] | None:
    # Only a clinical band or a red flag interprets a value. "normal" for a value with no band means only
    # that it is within the usual range of data entry, which is not a clinical judgement.
    if result.class_code is None and result.flag != "red":
        return None
    concept: dict = {}
    if result.flag in INTERPRETATION_CODES:
        code, display = INTERPRETATION_CODES[result.flag]
        concept["coding"] = [{"system": INTERPRETATION, "code": code, "display": display}]
    if result.class_label:
        concept["text"] = result.class_label
    return [concept] if concept else None


def _observation(resource_id: str, item: str, exam: Exam, person: Person, effective: str, *, corrected: bool,
                 interpreted: Result | None) -> dict:
    catalogued = clinical.get(item)
    resource = {
        "resourceType": "Observation", "id": resource_id, "status": "amended" if corrected else "final",
        "category": _category(item),
        "code": {"coding": [{"system": LOINC, "code": catalogued.loinc}], "text": catalogued.label},
        "subject": _reference(person.id), "encounter": _reference(exam.visit["id"]), "effectiveDateTime": effective,
    }
    interpretation = _interpretation(interpreted) if interpreted is not None else None
    if interpretation:
        resource["interpretation"] = interpretation
    return resource


def observations(person: Person, exam: Exam) -> list[dict]:
    """Return the exam's Observations: values with a LOINC code, blood pressure as panels, derived values last."""
    rows = {row["id"]: row for row in exam.observations}
    effective_default = exam.visit.get("checked_in_at") or exam.day
    entered = [result for result in exam.results if not result.derived and result.observation_id in rows]
    resources, ids_by_item = _blood_pressure_panels(person, exam, entered, rows)

    for result in entered:
        item = clinical.catalogue().get(result.item)
        if item is None or not item.loinc or item.code in ("bp_systolic", "bp_diastolic"):
            continue
        if not isinstance(result.value, float):
            continue
        row = rows[result.observation_id]
        resource = _observation(row["id"], result.item, exam, person, row.get("measured_at") or effective_default,
                                corrected=result.corrected, interpreted=result)
        if item.notation == "tenths":
            resource["valueRatio"] = {"numerator": {"value": result.value}, "denominator": {"value": 10}}
        else:
            resource["valueQuantity"] = _quantity(result.value, result.unit or item.unit)
        resources.append(resource)
        ids_by_item.setdefault(result.item, []).append(row["id"])

    sources = {"bmi": ("height_cm", "length_cm", "weight_kg"),
               "bp_systolic_mean": ("bp_panel",), "bp_diastolic_mean": ("bp_panel",)}
    for result in exam.results:
        item = clinical.catalogue().get(result.item)
        if not result.derived or item is None or not item.loinc or not isinstance(result.value, float):
            continue
        resource = _observation(_derived_id(exam.visit["id"], result.item), result.item, exam, person,
                                effective_default, corrected=False, interpreted=result)
        resource["valueQuantity"] = _quantity(result.value, item.unit)
        derived_from = [_reference(source_id) for source in sources.get(result.item, ())
                        for source_id in ids_by_item.get(source, [])]
        if derived_from:
            resource["derivedFrom"] = derived_from
        resources.append(resource)
    return resources


def _blood_pressure_panels(person: Person, exam: Exam, entered: list[Result],
                           rows: dict[str, dict]) -> tuple[list[dict], dict[str, list[str]]]:
    """Return one panel per blood-pressure reading, with systolic and diastolic components."""
    by_reading: dict[int, dict[str, Result]] = {}
    for result in entered:
        if result.item in ("bp_systolic", "bp_diastolic") and isinstance(result.value, float):
            by_reading.setdefault(result.reading, {})[result.item] = result

    panels, ids = [], {}
    for reading in sorted(by_reading):
        pair = by_reading[reading]
        first = pair.get("bp_systolic") or pair["bp_diastolic"]
        row = rows[first.observation_id]
        panel_id = _derived_id(*(pair[item].observation_id for item in sorted(pair)))
        panel = _observation(panel_id, "bp_systolic", exam, person, row.get("measured_at") or exam.day,
                             corrected=any(result.corrected for result in pair.values()), interpreted=None)
        panel["code"] = {"coding": [{"system": LOINC, "code": BP_PANEL}], "text": f"Huyết áp lần {reading}"}
        panel["component"] = [
            {"code": {"coding": [{"system": LOINC, "code": loinc}], "text": clinical.get(item).label},
             "valueQuantity": _quantity(pair[item].value, "mm[Hg]"),
             **({"interpretation": _interpretation(pair[item])} if _interpretation(pair[item]) else {})}
            for item, loinc in (("bp_systolic", SYSTOLIC), ("bp_diastolic", DIASTOLIC)) if item in pair
        ]
        panels.append(panel)
        ids.setdefault("bp_panel", []).append(panel_id)
    return panels, ids


def conditions(person: Person, exam: Exam) -> list[dict]:
    """Return a Condition per diagnosis of the exam's current conclusion, coded in ICD-10."""
    conclusion = exam.conclusion or {}
    resources = []
    for index, diagnosis in enumerate(conclusion.get("diagnoses") or []):
        code, label = (diagnosis.get("code") or "").strip(), (diagnosis.get("label") or "").strip()
        if not code and not label:
            continue
        concept: dict = {"text": label or code}
        if code:
            concept["coding"] = [{"system": ICD10, "code": code, **({"display": label} if label else {})}]
        resource = {
            "resourceType": "Condition", "id": _derived_id(conclusion["id"], str(index), code),
            "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
            "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
            "code": concept, "subject": _reference(person.id), "encounter": _reference(exam.visit["id"]),
        }
        if conclusion.get("recorded_at"):
            resource["recordedDate"] = conclusion["recorded_at"]
        resources.append(resource)
    return resources


def visit_bundle(person: Person, exam: Exam, timestamp: str | None = None) -> dict:
    """Return the collection Bundle of one exam."""
    resources = [patient(person), encounter(person, exam), *observations(person, exam), *conditions(person, exam)]
    return {
        "resourceType": "Bundle", "id": _derived_id("bundle", exam.visit["id"]),
        "identifier": {"system": URI_SYSTEM, "value": _urn(exam.visit["id"])},
        "type": "collection", "timestamp": timestamp or now(),
        "entry": [{"fullUrl": _urn(resource["id"]), "resource": resource} for resource in resources],
    }


def bundles(ward: Ward) -> list[tuple[str, dict]]:
    """Return (visit id, bundle) for every exam of the ward, in person order."""
    stamp = now()
    return [(exam.visit["id"], visit_bundle(person, exam, stamp)) for person in ward.people for exam in person.exams]


def validate(bundle: dict) -> None:
    """Raise pydantic.ValidationError unless the bundle and each of its resources parse with the R4B models."""
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])


def write_bundles(ward: Ward, folder: Path, check: bool = True) -> int:
    """Write each exam's bundle to folder/<visit id>.json, validating it first; return how many were written."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for visit_id, bundle in bundles(ward):
        if check:
            validate(bundle)
        (folder / f"{visit_id}.json").write_text(json.dumps(bundle, ensure_ascii=False, indent=1), encoding="utf-8")
        count += 1
    return count
