-- 0002: the station registry: one row per data logger (MN), what it measures, its limits.
--
-- Per-pollutant settings live in a child table, not in jsonb: every value is typed and
-- checked (a range whose low end is above its high end is refused at import, not found by
-- the rules engine a year later), the rules engine and the reports join it to
-- hj212.measurement on (mn, pollutant) with ordinary indexes, and a change to one
-- pollutant's limit is one row in the audit log instead of a whole document.

CREATE TABLE hj212.station (
    mn                  text        PRIMARY KEY
                        CHECK (mn ~ '^[0-9A-Za-z]{1,24}$'),  -- 2017: 24 hex chars; 2005: 14
    password            text        NOT NULL DEFAULT '123456'
                        CHECK (length(password) BETWEEN 1 AND 6),  -- PW C9 incl. "PW="
    name                text        NOT NULL,
    enterprise          text        NOT NULL DEFAULT '',
    outlet              text        NOT NULL DEFAULT '',
    medium              text        NOT NULL CHECK (medium IN ('gas', 'water', 'other')),
    -- GB/T 2260 administrative division code (6 digits): jurisdiction for the console,
    -- reports and notifications (province = first 2 digits, city = first 4).
    region_code         char(6)     NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
    protocol_version    text        NOT NULL DEFAULT '2017'
                        CHECK (protocol_version IN ('2005', '2017', '2025')),
    -- Which CRC the gateway accepts from this device (hj212.md §2): only the standard's,
    -- or also the Modbus / byte-swapped-Modbus CRC some old loggers send. Answers always
    -- carry the standard CRC.
    legacy_crc          text        NOT NULL DEFAULT 'reject'
                        CHECK (legacy_crc IN ('reject', 'modbus', 'swapped', 'any')),
    -- HJ 212-2017 §6.6: RtdInterval 30-3600 s; MinInterval one of 1..30 min.
    rt_interval_s       integer     NOT NULL DEFAULT 30 CHECK (rt_interval_s BETWEEN 1 AND 86400),
    minute_interval_min integer     NOT NULL DEFAULT 10
                        CHECK (minute_interval_min IN (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)),
    -- Reference O2 (%) for converted (折算) concentrations; NULL = no O2 conversion
    -- (water, or a gas source whose standard judges the measured value).
    o2_ref              double precision CHECK (o2_ref >= 0 AND o2_ref < 21),
    active              boolean     NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX station_region ON hj212.station (region_code);

CREATE TABLE hj212.station_pollutant (
    mn              text    NOT NULL REFERENCES hj212.station (mn) ON DELETE CASCADE,
    pollutant       text    NOT NULL CHECK (pollutant ~ '^[A-Za-z0-9]{2,12}$'),
    assessed        boolean NOT NULL DEFAULT true,   -- counts in the transmission-rate
    emission_limit  double precision,                -- in the pollutant's unit; NULL = none
    limit_period    text    CHECK (limit_period IN ('hour', 'day')),  -- what is judged
    range_low       double precision,                -- the analyser's measuring range
    range_high      double precision,
    unit            text,
    PRIMARY KEY (mn, pollutant),
    CHECK (range_low IS NULL OR range_high IS NULL OR range_low < range_high)
);
