-- 0009: keep hj212.chain_head small and its updates HOT.
-- Every batch locks (SELECT ... FOR UPDATE) and then updates the head row of every station
-- in it, so under load each row is rewritten many times a second. With the default
-- fillfactor 100 there is no room on the page for the new version: updates stop being HOT,
-- the primary key index grows with every version and the table bloats faster than
-- autovacuum's default thresholds react (measured: PostgreSQL CPU per frame rose ~5x going
-- from 500 to 2,000 stations in the load benchmark). Leave room on each page, and vacuum
-- this small table early and without throttling.
ALTER TABLE hj212.chain_head SET (
    fillfactor = 30,
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 2000,
    autovacuum_vacuum_cost_delay = 0
);
