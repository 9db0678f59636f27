-- R-O3: the audit trail. One row per gRPC call, allowed or refused. Append-only: the
-- service's own role may insert and read, and a trigger refuses every UPDATE, DELETE and
-- TRUNCATE, whoever issues them (removing the trigger needs a migration, which is reviewed).
CREATE TABLE audit_log (
    id            BIGSERIAL   PRIMARY KEY,
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    principal     TEXT        NOT NULL,
    auth_method   TEXT        NOT NULL CHECK (auth_method IN ('none', 'token', 'mtls')),
    roles         TEXT[]      NOT NULL,
    method        TEXT        NOT NULL,
    resource_ids  TEXT[]      NOT NULL,
    outcome       TEXT        NOT NULL,
    reason        TEXT        NOT NULL,
    trace_id      TEXT        NOT NULL
);
CREATE INDEX audit_log_principal ON audit_log (principal, id);
CREATE INDEX audit_log_method ON audit_log (method, id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- R-O3, R-C9: who owns each customer's collection work, as seen by a service that does not
-- own customers (scoring, dunning). Built from contracts' events: one row for the customer's
-- own owner (scope_key 'customer') and one per contract (scope_key = contract id).
CREATE TABLE owners (
    customer_id   UUID        NOT NULL,
    scope_key     TEXT        NOT NULL,
    owner         TEXT        NOT NULL,
    team          TEXT        NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, scope_key)
);
CREATE INDEX owners_owner ON owners (owner);
CREATE INDEX owners_team ON owners (team);
