"""Tables of the central record store, in SQLAlchemy Core so the same code runs on SQLite and PostgreSQL.

Times are ISO 8601 text, as on the sites, so they compare the same way on both databases.
Sequence numbers are BIGINT: a site appends one per change and never reuses one.
"""

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, Table, Text

metadata = MetaData()

# One row per enrolled site. code_hash is the SHA-256 of the one-time enrolment code, which is shown once
# and never stored. public_key is the site's Ed25519 key as base64 of its 32 raw bytes.
central_site = Table(
    "central_site",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("code_hash", Text, index=True),
    Column("code_expires_at", Text),
    Column("code_used_at", Text),
    Column("public_key", Text),
    Column("enrolled_at", Text),
    Column("revoked_at", Text),
    Column("created_at", Text, nullable=False),
    # The highest sequence number applied for this site; every record up to it is held.
    Column("acknowledged_through", BigInteger, nullable=False, default=0),
)

# One row per applied range of a site's sequence: first_seq is the first record the batch added,
# which is after the range of any earlier batch, so the rows never overlap.
batch = Table(
    "batch",
    metadata,
    Column("site_id", Text, primary_key=True),
    Column("first_seq", BigInteger, primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("hash", Text, nullable=False),
    Column("records", Integer, nullable=False),
    Column("received_at", Text, nullable=False),
)

# The current version of every record. site_id and seq name the record that created the row. A later
# record of the same kind and id (an edit, at this site or another) changes payload and recorded_at.
# field_times is set once a row has been merged: for a person, JSON {field: [recorded_at, site_id]} of
# each value kept, so a later edit is merged field by field; for other kinds {"*": [recorded_at, site_id]}
# of the record taken whole. NULL means every value came with the row's own recorded_at and site_id.
record = Table(
    "record",
    metadata,
    Column("kind", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    Column("site_id", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("field_times", Text),
    Column("received_at", Text, nullable=False),
)

# The value that lost a per-field merge of a person, kept for review: when two sites changed the same
# field, the value recorded later is kept and the other goes here. recorded_at is the losing value's time.
person_history = Table(
    "person_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", Text, nullable=False, index=True),
    Column("field", Text, nullable=False),
    Column("kept_value", Text),
    Column("other_value", Text),
    Column("kept_site", Text),
    Column("other_site", Text),
    Column("recorded_at", Text),
    Column("received_at", Text, nullable=False),
)

# Which central person a site's person is. People with the same CCCD (or, without one, the same old
# CMND number) are one central person: the one seen first. reason is "own" for a person that is its own
# central person and "id_number" for one linked by CCCD or CMND. It is "review" for a person left apart
# because an ID number is missing, with the same name and birth date as the person in review_with.
# "reviewed_same" and "reviewed_different" follow an officer's decision (review_decision), with the
# other person of the pair in review_with.
person_link = Table(
    "person_link",
    metadata,
    Column("person_id", Text, primary_key=True),
    Column("central_person_id", Text, nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("cccd", Text),
    Column("cmnd", Text),
    Column("name_key", Text),
    Column("review_with", Text),
    Index("person_link_cccd", "cccd"),
    Index("person_link_cmnd", "cmnd"),
    Index("person_link_name_key", "name_key"),
)

# A ward officer's decision on a pair that person_link offered for review, applied by people.link on
# every later batch. "same" links person_id to other_id's central person (reason "reviewed_same").
# "different" keeps them apart (reason "reviewed_different") while person_id's name_key is still the one
# decided on. decided_by is the staff id in the data folder's staff table. Times are UTC ISO 8601.
review_decision = Table(
    "review_decision",
    metadata,
    Column("person_id", Text, primary_key=True),
    Column("other_id", Text, primary_key=True),
    Column("decision", Text, nullable=False),
    Column("name_key", Text, nullable=False),
    Column("decided_by", Text),
    Column("decided_at", Text, nullable=False),
    Index("review_decision_other", "other_id"),
)

# The latest round package put for a site (fieldapp central package put), served by POST /api/package.
package = Table(
    "package",
    metadata,
    Column("site_id", Text, primary_key=True),
    Column("body", Text, nullable=False),
    Column("put_at", Text, nullable=False),
)
