-- The roles and schemas of the six services, run once by CloudNativePG when the cluster is
-- created (postgres.yaml: bootstrap.initdb.postInitApplicationSQLRefs), as the superuser, in
-- the application database. Safe to run again (e.g. by hand after adding a service).
--
-- Per service two roles, created here without LOGIN; the Cluster's managed roles give them
-- LOGIN and the passwords of their secrets:
--   collections_<service>_migrate  owns schema <service>: the migration Job (`<service> migrate`)
--                                  creates and alters its tables (DDL);
--   collections_<service>          the running service (DATABASE_MIGRATE=false): SELECT, INSERT,
--                                  UPDATE, DELETE on the schema's tables, sequences, no DDL, and
--                                  nothing in any other service's schema.
-- tests/e2e/migration_job.rs runs this file on a fresh database and the services under it.
DO $roles$
DECLARE
  svc text;
  owner text;
  runtime text;
  role text;
BEGIN
  FOREACH svc IN ARRAY ARRAY['contracts', 'payments', 'scoring', 'dunning', 'legal', 'reporting'] LOOP
    owner := 'collections_' || svc || '_migrate';
    runtime := 'collections_' || svc;
    FOREACH role IN ARRAY ARRAY[owner, runtime] LOOP
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role) THEN
        BEGIN
          EXECUTE format('CREATE ROLE %I NOLOGIN', role);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
          NULL; -- created meanwhile by another session: roles are cluster-wide
        END;
      END IF;
      EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), role);
    END LOOP;
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', svc, owner);
    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', svc, owner);
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', svc);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', svc, runtime);
    -- What the migration role creates from now on ...
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I
                      GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', owner, svc, runtime);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I
                      GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I', owner, svc, runtime);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I
                      GRANT EXECUTE ON FUNCTIONS TO %I', owner, svc, runtime);
    -- ... and what is there already (a schema migrated before this ran).
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', svc, runtime);
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I', svc, runtime);
  END LOOP;
END
$roles$;

-- Nobody creates objects in public (PostgreSQL 15 and later already say so).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
