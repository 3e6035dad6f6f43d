-- 0053: which database this is. A gateway's spool records it, and a spool is never
-- drained into another database than the one its frames were received for (a test
-- gateway reading a demo's spool, a gateway pointed at a new DSN). A restored copy
-- keeps the id: it is the same archive.
CREATE TABLE hj212.instance (
    one        boolean     PRIMARY KEY DEFAULT true CHECK (one),
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO hj212.instance DEFAULT VALUES;
INSERT INTO hj212.app_access VALUES ('instance', 'read');
