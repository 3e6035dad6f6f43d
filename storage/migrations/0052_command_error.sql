-- 0052: why a command failed before it reached the device (it could not be encoded:
-- a value the standard's format forbids, a parameter the CN does not take), so that a
-- bad command fails alone and says why instead of stopping the gateway.
ALTER TABLE hj212.command ADD COLUMN error text;
