"""Schema migrations: named, applied in order, never edited once released; add new ones at the end."""

MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "0001_roster",
        [
            """CREATE TABLE source_file (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,          -- base name; a corrected file with the same name replaces it
                sha256 TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('list', 'population')),
                list_group INTEGER,
                encoding TEXT,
                imported_at TEXT NOT NULL,
                report TEXT NOT NULL                -- JSON: sheets, layouts, conversions, bad rows
            )""",
            """CREATE TABLE source_row (
                id TEXT PRIMARY KEY,                -- stable across re-imports of the same row content
                file_id TEXT NOT NULL REFERENCES source_file(id) ON DELETE CASCADE,
                file_name TEXT NOT NULL,
                sheet TEXT NOT NULL,
                row_no INTEGER NOT NULL,
                signature TEXT NOT NULL,            -- name, birth date and place: keys review decisions
                full_name TEXT NOT NULL,
                name_key TEXT NOT NULL,
                birth_date TEXT,
                sex TEXT,
                cccd TEXT,
                cmnd TEXT,
                phone TEXT,
                address TEXT,
                tdp TEXT,
                class_name TEXT,
                parent_name TEXT,
                parent_phone TEXT,
                household TEXT,
                relation TEXT,
                bhyt TEXT,
                notes TEXT,
                groups TEXT NOT NULL,
                legacy TEXT,
                warnings TEXT NOT NULL,             -- JSON list of [code, value]
                raw TEXT NOT NULL,                  -- JSON list of the row's visible cells as read
                person_id TEXT,
                UNIQUE (file_name, sheet, row_no)
            )""",
            "CREATE INDEX source_row_person ON source_row(person_id)",
            "CREATE INDEX source_row_signature ON source_row(signature)",
            """CREATE TABLE person (
                id TEXT PRIMARY KEY,
                full_name TEXT NOT NULL,
                sort_key TEXT NOT NULL,
                search_key TEXT NOT NULL,           -- folded: no tones, lower case, đ as d
                sex TEXT,
                birth_date TEXT,                    -- yyyy-mm-dd, yyyy-mm or yyyy: as precise as known
                cccd TEXT,
                cmnd TEXT,
                phone TEXT,
                address TEXT,
                tdp TEXT,
                class_name TEXT,
                parent_name TEXT,
                parent_phone TEXT,
                groups TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX person_sort ON person(sort_key)",
            "CREATE INDEX person_cccd ON person(cccd)",
            """CREATE TABLE link_decision (
                signature_a TEXT NOT NULL,
                signature_b TEXT NOT NULL,          -- signature_a < signature_b
                decision TEXT NOT NULL CHECK (decision IN ('same', 'different')),
                decided_by TEXT,
                decided_at TEXT NOT NULL,
                PRIMARY KEY (signature_a, signature_b)
            )""",
            """CREATE TABLE review_pair (
                row_a TEXT NOT NULL,
                row_b TEXT NOT NULL,
                reason TEXT NOT NULL,
                PRIMARY KEY (row_a, row_b)
            )""",
            """CREATE TABLE population_row (
                id TEXT PRIMARY KEY,
                file_id TEXT NOT NULL REFERENCES source_file(id) ON DELETE CASCADE,
                row_no INTEGER NOT NULL,
                cccd TEXT,
                full_name TEXT NOT NULL,
                birth_date TEXT,
                sex TEXT,
                address TEXT
            )""",
            "CREATE INDEX population_cccd ON population_row(cccd)",
            """CREATE TABLE column_mapping (
                signature TEXT PRIMARY KEY,         -- folded header texts of a sender's layout
                mapping TEXT NOT NULL,              -- JSON {column index: field or null}
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE staff (
                id TEXT PRIMARY KEY,
                username TEXT NOT NULL UNIQUE,
                display_name TEXT NOT NULL,
                role TEXT NOT NULL,
                pin_hash TEXT NOT NULL,
                created_at TEXT NOT NULL
            )""",
            """CREATE TABLE audit_event (
                id TEXT PRIMARY KEY,
                at TEXT NOT NULL,
                staff_id TEXT,
                action TEXT NOT NULL,
                subject TEXT,                       -- an id, never a name or ID number
                detail TEXT
            )""",
        ],
    ),
]
