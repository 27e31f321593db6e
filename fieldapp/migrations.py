"""Schema migrations: named, applied in order, never edited once released; add new ones at the end."""

# The outbox triggers of 0008_outbox, written out from fixed column lists so the migration is the same
# on every machine. Never edit these lists: a later migration that adds a column to a synced table
# drops and recreates that table's triggers with the new list (tests/test_sync_site.py checks they match).
_SYNCED_0008 = (
    # (table, outbox kind, columns, columns whose change on UPDATE is sent; () for append-only tables)
    ("exam_round", "exam_round",
     ("id", "name", "start_date", "days", "title", "ward", "station", "created_at"),
     ("name", "start_date", "days", "title", "ward", "station")),
    ("site", "site",
     ("id", "round_id", "name", "address", "kind", "capacity", "sessions", "slot_minutes", "dates",
      "display_full_names"),
     ("round_id", "name", "address", "kind", "capacity", "sessions", "slot_minutes", "dates", "display_full_names")),
    ("person", "person",
     ("id", "full_name", "sort_key", "search_key", "sex", "birth_date", "cccd", "cmnd", "phone", "address", "tdp",
      "class_name", "parent_name", "parent_phone", "groups", "updated_at"),
     ()),
    # printed_at is left out: printing the slips of a whole round would send every invitation again.
    ("invitation", "invitation",
     ("id", "round_id", "person_id", "token", "site_id", "date", "slot_start", "slot_end", "status", "replaced_by",
      "printed_at", "created_at"),
     ("site_id", "date", "slot_start", "slot_end", "status", "replaced_by")),
    ("visit", "visit",
     ("id", "round_id", "site_id", "person_id", "invitation_id", "day", "checked_in_at", "queue_number", "plan_kind",
      "consent_by", "guardian_name", "consent_at", "staff_id", "device_id", "child_assent"),
     ("round_id", "site_id", "person_id", "invitation_id", "day", "queue_number", "plan_kind", "consent_by",
      "guardian_name", "consent_at", "child_assent")),
    ("observation", "observation",
     ("id", "visit_id", "person_id", "item", "reading", "value_num", "value_text", "unit", "confirmed", "supersedes",
      "reason", "source", "staff_id", "device_id", "measured_at", "recorded_at"),
     ()),
    ("conclusion", "conclusion",
     ("id", "visit_id", "person_id", "supersedes", "reason", "findings", "diagnoses", "health_class", "summary",
      "advice", "referral_place", "referral_reason", "next_exam_date", "staff_id", "device_id", "recorded_at"),
     ()),
)
_NOW_0008 = "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')"   # the format of db.now()
# `fieldapp sync pull` and `fieldapp sync purge` set this key inside their transaction, so their
# writes append nothing to the outbox.
_NOT_PAUSED_0008 = "NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'paused')"


def _json_0008(columns: tuple[str, ...], row: str = "NEW.") -> str:
    return "json_object(" + ", ".join(f"'{column}', {row}{column}" for column in columns) + ")"


def _outbox_0008() -> list[str]:
    """Return the statements that seed the outbox with the rows already stored and create its triggers."""
    statements = []
    for table, kind, columns, watched in _SYNCED_0008:
        recorded_at = "updated_at" if table == "person" else _NOW_0008
        statements.append(f"INSERT INTO outbox (kind, record_id, recorded_at, payload) SELECT '{kind}', id, "
                          f"{recorded_at}, {_json_0008(columns, '')} FROM {table} ORDER BY rowid")
        if table == "person":
            statements.extend(_person_triggers_0008(columns))
            continue
        payload = _json_0008(columns)
        statements.append(f"""CREATE TRIGGER outbox_{table}_insert AFTER INSERT ON {table}
            WHEN {_NOT_PAUSED_0008}
            BEGIN
                INSERT INTO outbox (kind, record_id, recorded_at, payload)
                VALUES ('{kind}', NEW.id, {_NOW_0008}, {payload});
            END""")
        if watched:
            changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in watched)
            statements.append(f"""CREATE TRIGGER outbox_{table}_update AFTER UPDATE OF {", ".join(watched)} ON {table}
                WHEN ({changed}) AND {_NOT_PAUSED_0008}
                BEGIN
                    INSERT INTO outbox (kind, record_id, recorded_at, payload)
                    VALUES ('{kind}', NEW.id, {_NOW_0008}, {payload});
                END""")
    return statements


def _person_triggers_0008(columns: tuple[str, ...]) -> list[str]:
    """Return the person triggers: a record only when a column other than updated_at differs from the last one sent.

    Relink deletes and re-inserts every person on each review decision, import and walk-in, so an
    INSERT is compared with sync_person_state rather than sent as is. A person that relink no longer
    makes is found by outbox.record_removals. People in sync_purged are never sent again.
    """
    state_columns = tuple(column for column in columns if column != "updated_at")
    seed = f"INSERT INTO sync_person_state (person_id, state) SELECT id, {_json_0008(state_columns, '')} FROM person"
    state = _json_0008(state_columns)
    triggers = [seed]
    for event in ("INSERT", "UPDATE"):
        triggers.append(f"""CREATE TRIGGER outbox_person_{event.lower()} AFTER {event} ON person
            WHEN NOT EXISTS (SELECT 1 FROM sync_purged WHERE person_id = NEW.id)
                AND NOT EXISTS (SELECT 1 FROM sync_person_state WHERE person_id = NEW.id AND state = {state})
            BEGIN
                INSERT INTO outbox (kind, record_id, recorded_at, payload)
                SELECT 'person', NEW.id, NEW.updated_at, {_json_0008(columns)} WHERE {_NOT_PAUSED_0008};
                INSERT OR REPLACE INTO sync_person_state (person_id, state) VALUES (NEW.id, {state});
            END""")
    return triggers


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
    (
        "0002_rounds",
        [
            """CREATE TABLE exam_round (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                start_date TEXT NOT NULL,           -- yyyy-mm-dd
                days INTEGER NOT NULL CHECK (days BETWEEN 1 AND 60),
                title TEXT NOT NULL,                -- printed on slips
                ward TEXT NOT NULL,                 -- "Phường An Lạc"
                station TEXT NOT NULL,              -- "Trạm Y tế phường An Lạc"
                created_at TEXT NOT NULL
            )""",
            """CREATE TABLE site (
                id TEXT PRIMARY KEY,
                round_id TEXT NOT NULL REFERENCES exam_round(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                address TEXT NOT NULL,
                kind TEXT NOT NULL,                 -- station, school, community, workplace
                capacity INTEGER NOT NULL CHECK (capacity > 0),   -- people per slot
                sessions TEXT NOT NULL,             -- JSON [["07:00", "11:00"], ["13:30", "16:30"]]
                slot_minutes INTEGER NOT NULL DEFAULT 30,
                dates TEXT NOT NULL,                -- JSON list of yyyy-mm-dd the site is open
                UNIQUE (round_id, name)
            )""",
            """CREATE TABLE round_rule (
                id TEXT PRIMARY KEY,
                round_id TEXT NOT NULL REFERENCES exam_round(id) ON DELETE CASCADE,
                site_id TEXT NOT NULL REFERENCES site(id) ON DELETE CASCADE,
                filter_kind TEXT NOT NULL CHECK (filter_kind IN ('all', 'group', 'list', 'tdp', 'class')),
                filter_value TEXT NOT NULL DEFAULT '',
                date TEXT                           -- a day of the round, or NULL for any open day
            )""",
            """CREATE TABLE station_plan (
                round_id TEXT NOT NULL REFERENCES exam_round(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,                 -- pupil, under36m, adult, worker
                items TEXT NOT NULL,                -- JSON list of item codes
                PRIMARY KEY (round_id, kind)
            )""",
            """CREATE TABLE invitation (
                id TEXT PRIMARY KEY,
                round_id TEXT NOT NULL REFERENCES exam_round(id) ON DELETE CASCADE,
                person_id TEXT NOT NULL,
                token TEXT NOT NULL UNIQUE,
                site_id TEXT REFERENCES site(id),
                date TEXT,
                slot_start TEXT,
                slot_end TEXT,
                status TEXT NOT NULL CHECK (status IN ('active', 'void')),
                replaced_by TEXT,                   -- the invitation that replaced a voided one
                printed_at TEXT,
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX invitation_round_person ON invitation(round_id, person_id)",
            "CREATE UNIQUE INDEX invitation_one_active ON invitation(round_id, person_id) WHERE status = 'active'",
            """CREATE TABLE job (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
                done INTEGER NOT NULL DEFAULT 0,
                total INTEGER NOT NULL DEFAULT 0,
                result TEXT,                        -- file name in the data folder's output/ folder
                error TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
        ],
    ),
    (
        "0003_devices_visits",
        [
            "ALTER TABLE staff ADD COLUMN failed_pins INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE staff ADD COLUMN locked_until TEXT",
            "ALTER TABLE staff ADD COLUMN active INTEGER NOT NULL DEFAULT 1",
            """CREATE TABLE device (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,                 -- what the admin calls it: "Điện thoại bàn đón tiếp 1"
                secret_hash TEXT NOT NULL,          -- hash of the device cookie's secret
                paired_at TEXT NOT NULL,
                paired_by TEXT,                     -- staff id of the admin who showed the pairing QR
                last_seen TEXT,
                revoked_at TEXT
            )""",
            """CREATE TABLE pairing_token (
                token_hash TEXT PRIMARY KEY,
                device_name TEXT NOT NULL,
                created_by TEXT,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT
            )""",
            """CREATE TABLE visit (
                id TEXT PRIMARY KEY,
                round_id TEXT REFERENCES exam_round(id),
                site_id TEXT REFERENCES site(id),
                person_id TEXT NOT NULL,
                invitation_id TEXT REFERENCES invitation(id),
                day TEXT NOT NULL,                  -- yyyy-mm-dd of the exam day
                checked_in_at TEXT NOT NULL,
                queue_number INTEGER NOT NULL,
                plan_kind TEXT NOT NULL,            -- under36m, pupil, adult, worker
                consent_by TEXT,                    -- self or guardian; NULL until recorded
                guardian_name TEXT,
                consent_at TEXT,
                staff_id TEXT,
                device_id TEXT,
                UNIQUE (person_id, day)             -- one visit per person per day, whoever checks in
            )""",
            "CREATE UNIQUE INDEX visit_queue_number ON visit(site_id, day, queue_number)",
            """CREATE TABLE idempotency (
                key TEXT PRIMARY KEY,               -- sent by the page with each form post
                staff_id TEXT,
                method TEXT NOT NULL,
                path TEXT NOT NULL,
                status INTEGER NOT NULL,
                location TEXT,                      -- the redirect target, if any
                created_at TEXT NOT NULL
            )""",
        ],
    ),
    (
        "0004_checkin",
        [
            # Decree 13/2023 art. 20: a child from 7 years old agrees too, besides the guardian.
            "ALTER TABLE visit ADD COLUMN child_assent INTEGER NOT NULL DEFAULT 0",
        ],
    ),
    (
        "0005_queue",
        [
            """CREATE TABLE station_type (
                id TEXT PRIMARY KEY,
                site_id TEXT NOT NULL REFERENCES site(id) ON DELETE CASCADE,
                code TEXT NOT NULL,                 -- measure, blood_pressure, glucose, vision, dental, ent, exam, doctor, lab
                label TEXT NOT NULL,                -- shown to people: "Đo huyết áp, mạch"
                items TEXT NOT NULL,                -- JSON list of the plan item codes served here
                UNIQUE (site_id, code)
            )""",
            """CREATE TABLE desk (
                id TEXT PRIMARY KEY,
                site_id TEXT NOT NULL REFERENCES site(id) ON DELETE CASCADE,
                station_type_id TEXT NOT NULL REFERENCES station_type(id) ON DELETE CASCADE,
                number INTEGER NOT NULL,            -- shown to people: "Bàn 3"
                open INTEGER NOT NULL DEFAULT 1 CHECK (open IN (0, 1)),
                mean_service_s REAL NOT NULL,       -- running mean seconds from call or start to done
                served INTEGER NOT NULL DEFAULT 0,
                UNIQUE (site_id, number)
            )""",
            """CREATE TABLE task (
                id TEXT PRIMARY KEY,
                visit_id TEXT NOT NULL REFERENCES visit(id) ON DELETE CASCADE,
                station_type_id TEXT NOT NULL REFERENCES station_type(id),
                status TEXT NOT NULL CHECK (status IN ('waiting', 'called', 'in_service', 'done', 'skipped', 'no_show')),
                in_line INTEGER NOT NULL DEFAULT 0, -- 1 for the one waiting task the person was sent to
                desk_id TEXT REFERENCES desk(id),
                priority TEXT NOT NULL CHECK (priority IN ('emergency', 'priority', 'normal')),
                ordinal INTEGER NOT NULL,           -- 0 measurements, 1 other exams, 2 doctor's conclusion
                queue_key REAL,                     -- serving order: joined the line (epoch s) minus head start
                enqueued_at TEXT,
                called_at TEXT,
                calls INTEGER NOT NULL DEFAULT 0,
                started_at TEXT,
                done_at TEXT,
                red_flags TEXT,                     -- JSON list recorded by triage
                UNIQUE (visit_id, station_type_id)
            )""",
            "CREATE INDEX task_line ON task(station_type_id, queue_key) WHERE status = 'waiting' AND in_line = 1",
            "CREATE INDEX task_desk ON task(desk_id) WHERE desk_id IS NOT NULL",
        ],
    ),
    (
        "0006_site_display",
        [
            # The waiting-room TV shows masked names unless the site's officer chooses full names.
            "ALTER TABLE site ADD COLUMN display_full_names INTEGER NOT NULL DEFAULT 0",
        ],
    ),
    (
        "0007_observations",
        [
            # Entered values only; BMI, averages, z-scores and flags are derived when read.
            # A correction is a new row whose supersedes names the row it replaces; rows never change.
            """CREATE TABLE observation (
                id TEXT PRIMARY KEY,
                visit_id TEXT NOT NULL REFERENCES visit(id),
                person_id TEXT NOT NULL,
                item TEXT NOT NULL,                 -- item code from fieldapp/data/items.json
                reading INTEGER NOT NULL DEFAULT 1, -- 1, 2, 3 for repeated readings (blood pressure)
                value_num REAL,
                value_text TEXT,
                unit TEXT,
                confirmed INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1)),  -- an unusual value, confirmed
                supersedes TEXT REFERENCES observation(id),
                reason TEXT,                        -- why a correction was made
                source TEXT NOT NULL CHECK (source IN ('form', 'import')),
                staff_id TEXT,
                device_id TEXT,
                measured_at TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            )""",
            "CREATE INDEX observation_visit ON observation(visit_id, item, reading)",
            "CREATE INDEX observation_person ON observation(person_id)",
            "CREATE UNIQUE INDEX observation_one_correction ON observation(supersedes) WHERE supersedes IS NOT NULL",
            """CREATE TABLE conclusion (
                id TEXT PRIMARY KEY,
                visit_id TEXT NOT NULL REFERENCES visit(id),
                person_id TEXT NOT NULL,
                supersedes TEXT REFERENCES conclusion(id),
                reason TEXT,
                findings TEXT NOT NULL DEFAULT '{}',    -- JSON {section: text} per specialty of the exam booklet
                diagnoses TEXT NOT NULL DEFAULT '[]',   -- JSON [{"code": "I10", "label": "..."}]
                health_class TEXT CHECK (health_class IN ('I', 'II', 'III', 'IV', 'V')),
                summary TEXT,
                advice TEXT,
                referral_place TEXT,
                referral_reason TEXT,
                next_exam_date TEXT,
                staff_id TEXT,
                device_id TEXT,
                recorded_at TEXT NOT NULL
            )""",
            "CREATE INDEX conclusion_visit ON conclusion(visit_id)",
            "CREATE UNIQUE INDEX conclusion_one_correction ON conclusion(supersedes) WHERE supersedes IS NOT NULL",
            """CREATE TABLE advice_template (
                id TEXT PRIMARY KEY,
                title TEXT NOT NULL UNIQUE,
                body TEXT NOT NULL,
                active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                updated_at TEXT NOT NULL
            )""",
        ],
    ),
    (
        "0008_outbox",
        [
            # Every change of a synced row is appended here by the triggers below; seq is never reused.
            """CREATE TABLE outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL,                 -- person, exam_round, site, invitation, visit, observation, conclusion
                record_id TEXT NOT NULL,
                recorded_at TEXT NOT NULL,          -- UTC time of the change
                payload TEXT NOT NULL,              -- JSON object of the row's columns
                sent_at TEXT                        -- set once the central store has acknowledged seq
            )""",
            "CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent_at IS NULL",
            """CREATE TABLE sync_state (
                key TEXT PRIMARY KEY,               -- site_id, site_name, central_url, enrolled_at, acknowledged_through
                value TEXT NOT NULL
            )""",
            # The last state of each person sent to the outbox, without updated_at: relink deletes and
            # re-inserts every person, and only a person whose columns changed gets a new outbox record.
            """CREATE TABLE sync_person_state (
                person_id TEXT PRIMARY KEY,
                state TEXT NOT NULL
            )""",
            # People whose personal data `fieldapp sync purge` cleared; their later changes are never sent.
            """CREATE TABLE sync_purged (
                person_id TEXT PRIMARY KEY,
                purged_at TEXT NOT NULL
            )""",
            *_outbox_0008(),
        ],
    ),
    (
        "0009_task_done_index",
        [
            # The coordinator's screen counts each station's people served in the last hour every 2 s.
            "CREATE INDEX task_done ON task(station_type_id, done_at) WHERE status = 'done'",
        ],
    ),
]
