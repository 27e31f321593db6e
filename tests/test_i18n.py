"""The English catalogue covers every Vietnamese text and its compiled file is current."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).parent.parent
CATALOGUE = ROOT / "fieldapp" / "translations" / "en" / "LC_MESSAGES"
METHODS = [("fieldapp/**.py", "python"), ("fieldapp/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}


def _po():
    with (CATALOGUE / "messages.po").open("rb") as handle:
        return read_po(handle)


def test_every_source_text_in_catalogue():
    catalogue = _po()
    extracted = {
        message for _, _, message, _, _ in extract_from_dir(ROOT, METHODS, keywords=KEYWORDS)
        if isinstance(message, str) and message
    }

    missing = sorted(message for message in extracted if message not in catalogue)

    assert missing == [], "run pybabel extract and update (CONTRIBUTING.md)"


def test_every_entry_translated():
    untranslated = [message.id for message in _po() if message.id and (not message.string or message.fuzzy)]

    assert untranslated == []


def _hashable(value):
    # A plural entry's id and string are lists (singular and plural forms).
    return tuple(value) if isinstance(value, list) else value


def test_compiled_catalogue_current():
    with (CATALOGUE / "messages.mo").open("rb") as handle:
        compiled = {_hashable(message.id): _hashable(message.string) for message in read_mo(handle) if message.id}

    source = {_hashable(message.id): _hashable(message.string) for message in _po() if message.id and not message.fuzzy}

    assert compiled == source, "run pybabel compile -d fieldapp/translations"


def test_english_page_uses_catalogue(app):
    client = app.test_client()
    token = client.get("/login").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]

    client.post("/lang", data={"lang": "en", "csrf_token": token})
    page = client.get("/login").get_data(as_text=True)

    assert '<html lang="en">' in page
    assert "Sign in" in page
    assert "Đăng nhập" not in page
