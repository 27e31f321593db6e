// Station entry form on a phone: auto-advance between fields, the live blood-pressure mean and BMI,
// the third blood-pressure reading, and server checks of each row as the nurse leaves it.
//
// The form works without this module: the server checks every row again on save and re-renders
// the page with its messages. docs/entry.md lists the rules for when a value is complete. Each input
// carries its rule as data attributes, written by the server from fieldapp/data/items.json.
//
// Row checks are sent with fetch, not htmx, so they bypass the offline queue in offline.js:
// a check made while the Wi-Fi is down is dropped, never queued and replayed later.

const BP_READINGS = [1, 2, 3];
// A third blood-pressure reading is needed when the first two differ by more than this (mmHg),
// systolic or diastolic. fieldapp/entry_form.py applies the same rule on the server.
const BP_THIRD_READING_GAP = 10;

/** Return true when a typed value is complete under the input's auto-advance rule. */
export function isComplete(raw, rule) {
  const text = raw.trim();
  if (rule.kind === "integer") {
    // Complete when one more digit would make the number larger than the plausible maximum.
    return /^\d+$/.test(text) && Number(text) * 10 > rule.max;
  }
  if (rule.kind === "decimal") {
    // Complete once all the decimals are typed: "36,5" for one decimal. "65" could still become "65,5".
    const match = /^\d+[.,](\d+)$/.exec(text);
    return match !== null && match[1].length >= rule.decimals;
  }
  return false;
}

/** Return the number a typed value stands for (comma or dot as the decimal mark), or null. */
export function numberOf(raw) {
  const text = (raw || "").trim().replace(",", ".");
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : null;
}

/** Return the mean of blood-pressure readings [[systolic, diastolic], ...] as fieldapp/results.py computes it. */
export function bloodPressureMean(readings) {
  if (!readings.length) {
    return null;
  }
  // The mean is of the last two readings: a third one is taken only when the first two differ too much.
  const used = readings.slice(-2);
  const mean = (index) => Math.round((used.reduce((sum, pair) => sum + pair[index], 0) / used.length) * 10) / 10;
  return [mean(0), mean(1)];
}

/** Return true when two readings [systolic, diastolic] differ by more than the third-reading gap. */
export function needsThirdReading(first, second) {
  return Math.abs(first[0] - second[0]) > BP_THIRD_READING_GAP || Math.abs(first[1] - second[1]) > BP_THIRD_READING_GAP;
}

function ruleOf(input) {
  return {
    kind: input.dataset.advance,
    max: Number(input.dataset.advanceMax),
    decimals: Number(input.dataset.decimals || 0),
  };
}

function isShown(element) {
  return element.offsetParent !== null && !element.closest("[hidden]");
}

function start(form) {
  const format = new Intl.NumberFormat(document.documentElement.lang || "vi", {
    maximumFractionDigits: 1,
    useGrouping: false,
  });
  const oneDecimal = new Intl.NumberFormat(document.documentElement.lang || "vi", {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
    useGrouping: false,
  });
  const fields = () => [...form.querySelectorAll("input.value, textarea.value")];
  const saveButton = form.querySelector("button.save");

  // The value of an item and reading: the typed one when the field is on the form, else the saved one.
  // A typed value outside the plausible range counts as missing, so "12/8" gives no mean.
  function valueOf(name) {
    const input = form.querySelector(`[name="${name}"]`);
    if (input) {
      const value = numberOf(input.value);
      const inside = value !== null && value >= Number(input.dataset.low) && value <= Number(input.dataset.high);
      return inside ? value : null;
    }
    const saved = document.querySelector(`[data-saved="${name}"]`);
    return saved ? numberOf(saved.dataset.value) : null;
  }

  function readings() {
    const found = [];
    for (const reading of BP_READINGS) {
      const systolic = valueOf(`bp_systolic.${reading}`);
      const diastolic = valueOf(`bp_diastolic.${reading}`);
      if (systolic !== null && diastolic !== null) {
        found.push([systolic, diastolic]);
      }
    }
    return found;
  }

  function showBloodPressure() {
    const output = document.getElementById("bp-mean");
    const third = form.querySelector("[data-third-reading]");
    const found = readings();
    if (third) {
      const typed = [...third.querySelectorAll("input.value")].some((input) => input.value.trim() !== "");
      third.hidden = !(typed || (found.length >= 2 && needsThirdReading(found[0], found[1])));
    }
    if (output) {
      const mean = bloodPressureMean(found);
      output.textContent = mean ? `${format.format(mean[0])}/${format.format(mean[1])}` : "—";
    }
  }

  function showBmi() {
    const output = document.getElementById("bmi-live");
    if (!output) {
      return;
    }
    const height = valueOf("height_cm.1") ?? valueOf("length_cm.1");
    const weight = valueOf("weight_kg.1");
    const bmi = height !== null && weight !== null ? Math.round((weight / (height / 100) ** 2) * 10) / 10 : null;
    output.textContent = bmi === null ? "—" : oneDecimal.format(bmi);
  }

  function showLive() {
    showBloodPressure();
    showBmi();
  }

  function focusNext(current) {
    const all = fields();
    const next = all.slice(all.indexOf(current) + 1).find((input) => isShown(input) && input.value.trim() === "");
    (next || saveButton)?.focus();
  }

  // "120/80" typed into a systolic field: the part after the slash goes to the diastolic field.
  function splitBloodPressure(input) {
    if (input.dataset.item !== "bp_systolic" || !input.value.includes("/")) {
      return false;
    }
    const [systolic, diastolic] = input.value.split("/", 2);
    const partner = form.querySelector(`[name="bp_diastolic.${input.dataset.reading}"]`);
    if (!partner) {
      return false;
    }
    input.value = systolic.trim();
    partner.value = diastolic.trim();
    partner.focus();
    return true;
  }

  // Checks of one row can overlap, so only the response to the latest is shown.
  const latestCheck = new Map();

  let submitting = false;
  form.addEventListener("submit", () => {
    submitting = true;
  });

  async function check(group) {
    const slot = form.querySelector(`[data-messages-for="${group}"]`);
    if (!slot || !navigator.onLine || submitting) {
      return;
    }
    const ticket = (latestCheck.get(group) || 0) + 1;
    latestCheck.set(group, ticket);
    const body = new FormData(form);
    body.set("group", group);
    // offline.js adds the save's idempotency key to the form when it is submitted. A check sent at the
    // same moment must not claim that key, or the save would be rejected as a reused key.
    body.delete("idempotency_key");
    let response;
    try {
      response = await fetch(form.dataset.checkUrl, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": body.get("csrf_token") },
        credentials: "same-origin",
      });
    } catch {
      return; // No network: the server checks the row again on save.
    }
    const html = response.ok ? await response.text() : null;
    if (html !== null && latestCheck.get(group) === ticket) {
      slot.innerHTML = html;
    }
  }

  // A row is checked when the nurse leaves it, not while moving from its first field to an empty second
  // one (systolic to diastolic), which would only report the second value as missing.
  function checkWhenLeft(input) {
    const group = input.dataset.group;
    setTimeout(() => {
      const members = [...form.querySelectorAll(".value")].filter((field) => field.dataset.group === group);
      const midRow = members.includes(document.activeElement) && members.some((field) => field.value.trim() === "");
      if (!midRow) {
        check(group);
      }
    }, 0);
  }

  form.addEventListener("input", (event) => {
    const input = event.target;
    if (!input.matches("input.value")) {
      return;
    }
    if (splitBloodPressure(input)) {
      showLive();
      return;
    }
    showLive();
    // Only typing moves on: deleting or pasting into the middle of a value leaves the focus where it is.
    if (event.inputType?.startsWith("insert") && input.dataset.advance && isComplete(input.value, ruleOf(input))) {
      focusNext(input);
    }
  });

  form.addEventListener("change", (event) => {
    if (event.target.matches("input.value")) {
      checkWhenLeft(event.target);
    }
  });

  // Enter or the keyboard's "next" key moves to the next field instead of saving a half-filled form.
  form.addEventListener("keydown", (event) => {
    const input = event.target;
    if (event.key !== "Enter" || !input.matches("input.value")) {
      return;
    }
    event.preventDefault();
    focusNext(input);
  });

  showLive();
  const first = fields().find((input) => isShown(input) && input.value.trim() === "")
    || form.querySelector("[aria-invalid=true]");
  first?.focus();
}

const form = document.querySelector("form.entry-form");
if (form) {
  start(form);
}
