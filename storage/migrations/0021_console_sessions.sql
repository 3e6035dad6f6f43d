-- 0021: signing out ends a user's sessions on the server too. Session cookies are
-- signed, not stored (console/auth.py); a cookie issued before signed_out_at is refused,
-- so "sign out" ends every session of that user, on every browser.
ALTER TABLE hj212.console_user ADD COLUMN signed_out_at timestamptz;
