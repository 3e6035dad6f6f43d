-- 0063: the audit log keeps its own time. An entry's `at` is the database's clock when
-- it is written (the column's default, clock_timestamp()); an INSERT that names another
-- time is refused. Why: retention drops whole 30-day chunks by `at` (storage/
-- maintenance.py), so a back-dated entry would sit in an old chunk in the middle of the
-- hash chain, and dropping that chunk would cut the chain there ("entries removed")
-- instead of moving its start forward; and a record of who did what when must not
-- accept a "when" from the writer (docs/regulations.md §12, seed 002 Art. 21).
-- Named so that it fires before audit_log_client and audit_log_link (name order).
CREATE FUNCTION hj212.audit_own_time() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF abs(extract(epoch FROM NEW.at - clock_timestamp())) > 5 THEN
        RAISE EXCEPTION 'hj212.audit_log keeps its own time: at % is not now', NEW.at
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_at BEFORE INSERT ON hj212.audit_log
    FOR EACH ROW EXECUTE FUNCTION hj212.audit_own_time();
