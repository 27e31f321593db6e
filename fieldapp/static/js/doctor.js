// The doctor's conclusion page: choosing ICD-10 codes from the search results and inserting advice templates.
//
// Without this script the page still works: ticked codes in the suggestions are saved, a <noscript> field
// takes typed codes, and a template button posts the form, which comes back with the template's text added.

const chosen = document.getElementById("diagnoses-chosen");
const results = document.getElementById("icd10-results");
const advice = document.getElementById("advice");
const noDiagnosis = document.getElementById("no-diagnosis");

function updateEmptyNote() {
  if (noDiagnosis) {
    noDiagnosis.hidden = chosen.querySelector("input:checked") !== null;
  }
}

// A ticked search result or suggestion moves into the chosen list, so a new search does not drop it.
function choose(checkbox) {
  const existing = chosen.querySelector(`input[name="diagnosis"][value="${CSS.escape(checkbox.value)}"]`);
  const item = checkbox.closest("li");
  if (existing && existing !== checkbox) {
    existing.checked = true;
    item.remove();
  } else {
    chosen.append(item);
  }
  // The same code may also be offered as a suggestion or in the search results; one ticked box is enough.
  for (const twin of document.querySelectorAll(`input[name="diagnosis"][value="${CSS.escape(checkbox.value)}"]`)) {
    if (!chosen.contains(twin)) {
      twin.closest("li").remove();
    }
  }
  updateEmptyNote();
}

if (chosen) {
  document.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.name !== "diagnosis") {
      return;
    }
    if (box.checked && !chosen.contains(box)) {
      choose(box);
    } else {
      updateEmptyNote();
    }
  });
}

// Codes already chosen are left out of new search results. The event is listened for on the document
// because htmx fires it on the element that sent the request, the search form.
if (results && chosen) {
  document.addEventListener("htmx:after:swap", () => {
    for (const box of results.querySelectorAll('input[name="diagnosis"]')) {
      if (chosen.querySelector(`input[name="diagnosis"][value="${CSS.escape(box.value)}"]`)) {
        box.closest("li").remove();
      }
    }
  });
}

// A template button adds the template's text to the advice box here instead of posting the form.
for (const button of document.querySelectorAll("button.template[data-body]")) {
  button.addEventListener("click", (event) => {
    event.preventDefault();
    const current = advice.value.trim();
    advice.value = current ? `${current}\n${button.dataset.body}` : button.dataset.body;
    advice.focus();
    advice.setSelectionRange(advice.value.length, advice.value.length);
  });
}
